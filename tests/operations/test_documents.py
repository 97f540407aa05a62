"""CPF, plates and name folding, as operators type them."""

import pytest

from hub.errors import BadRequest
from hub.operations.documents import cpf_digits, folded, format_cpf, plate, plate_spellings


@pytest.mark.parametrize(
    "raw", ["529.982.247-25", "52998224725", " 529 982 247 25 ", "111.444.777-35"]
)
def test_valid_cpfs_in_any_punctuation(raw):
    digits = cpf_digits(raw)
    assert len(digits) == 11 and digits.isdigit()
    assert cpf_digits(format_cpf(digits)) == digits


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("529.982.247-24", "check digits"),
        ("529.982.247-15", "check digits"),
        ("111.111.111-11", "not valid"),
        ("1234567890", "11 digits"),
        ("abc.def.ghi-jk", "11 digits"),
    ],
)
def test_invalid_cpfs_are_refused(raw, message):
    with pytest.raises(BadRequest, match=message):
        cpf_digits(raw)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("abc-1234", "ABC1234"),
        ("ABC 1234", "ABC1234"),
        ("abc1d23", "ABC1D23"),
        ("BRA-2E19", "BRA2E19"),
    ],
)
def test_plates_in_both_formats(raw, canonical):
    assert plate(raw) == canonical


@pytest.mark.parametrize("raw", ["AB-1234", "ABCD123", "1234ABC", "ABC12D3", ""])
def test_impossible_plates_are_refused(raw):
    with pytest.raises(BadRequest, match="Mercosul"):
        plate(raw)


def test_a_plate_and_its_mercosul_twin():
    assert plate_spellings("ABC1234") == {"ABC1234", "ABC1C34"}
    assert plate_spellings("ABC1C34") == {"ABC1C34", "ABC1234"}


def test_names_fold_accents_case_and_spaces():
    assert folded("  JOÃO   da Conceição ") == "joao da conceicao"
    assert folded("Ângela") == folded("angela")
