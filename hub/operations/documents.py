"""Brazilian identifiers as operators type them: CPF and vehicle plates. Pure.

Operators search "by name, plate or CPF", with or without punctuation: these functions
give every spelling one canonical form, and refuse what cannot be one.
"""

from __future__ import annotations

import re
import unicodedata

from hub.errors import BadRequest

_OLD_PLATE = re.compile(r"^[A-Z]{3}[0-9]{4}$")  # ABC1234 (ABC-1234)
_MERCOSUL_PLATE = re.compile(r"^[A-Z]{3}[0-9][A-Z][0-9]{2}$")  # ABC1D23


def cpf_digits(raw: str) -> str:
    """The 11 digits of a valid CPF (check digits verified); BadRequest otherwise."""
    digits = re.sub(r"[\s.\-/]", "", raw)
    if not (digits.isascii() and digits.isdigit()) or len(digits) != 11:
        raise BadRequest(f"CPF {raw!r} must have 11 digits (0-9)", field="cpf", problem="invalid")
    if digits == digits[0] * 11:
        raise BadRequest(f"CPF {raw!r} is not valid", field="cpf", problem="invalid")
    for length in (9, 10):
        total = sum(
            int(d) * w for d, w in zip(digits[:length], range(length + 1, 1, -1), strict=True)
        )
        check = (total * 10) % 11 % 10
        if check != int(digits[length]):
            raise BadRequest(f"CPF {raw!r} has wrong check digits", field="cpf", problem="invalid")
    return digits


# The 27 federative units (UF) of an address's ``state``.
UFS = frozenset(
    {"AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA"}
    | {"PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO"}
)
_CEP = re.compile(r"(\d{5})-?(\d{3})", re.ASCII)


def address_state(raw: str) -> str:
    """A UF code (upper case), or empty; BadRequest otherwise."""
    code = raw.strip().upper()
    if code and code not in UFS:
        raise BadRequest(
            f"state {raw!r} is not a Brazilian UF (SP, RJ, ...)", field="state", problem="invalid"
        )
    return code


def address_cep(raw: str) -> str:
    """A CEP as 01310-100, or empty; BadRequest (invalid_cep) otherwise."""
    found = _CEP.fullmatch(raw.strip())
    if raw.strip() and (found is None or found.group(1) + found.group(2) == "00000000"):
        raise BadRequest(f"CEP {raw!r} is not 8 digits (as 01310-100)", code="invalid_cep")
    return "" if found is None else f"{found.group(1)}-{found.group(2)}"


def format_cpf(digits: str) -> str:
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def plate(raw: str) -> str:
    """A plate in its canonical form (upper case, no hyphen or spaces), old or Mercosul."""
    compact = re.sub(r"[\s\-.]", "", raw).upper()
    if not (_OLD_PLATE.match(compact) or _MERCOSUL_PLATE.match(compact)):
        raise BadRequest(
            f"plate {raw!r} is neither ABC-1234 nor Mercosul ABC1D23",
            field="plate",
            problem="invalid",
        )
    return compact


_MERCOSUL_LETTER = "ABCDEFGHIJ"


def plate_spellings(canonical: str) -> set[str]:
    """The plate and its other-format twin: a car converted to Mercosul keeps its old
    plate in many records (the fifth character 0-9 becomes A-J)."""
    fifth = canonical[4]
    if fifth.isdigit():
        twin = canonical[:4] + _MERCOSUL_LETTER[int(fifth)] + canonical[5:]
    else:
        twin = canonical[:4] + str(_MERCOSUL_LETTER.index(fifth)) + canonical[5:]
    return {canonical, twin}


def folded(text: str) -> str:
    """Lower case without accents or extra spaces: how names are compared in searches."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())
