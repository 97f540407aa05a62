"""What a store's refusal means, in the domain's words: a constraint that failed becomes a
``conflict`` whose message names what already exists, never the table, the columns or the
SQL (which clients must not see)."""

from __future__ import annotations

from hub.errors import Conflict

# A piece of the engines' message -> what it means.  Both engines name the columns.
KNOWN = (
    ("cpf", "a beneficiary with this CPF is already registered for this client"),
    ("login", "this login is taken"),
    ("device_key", "this device key is taken"),
    ("plate", "this plate is already registered"),
    ("offers_one_winner", "another provider already has this attendance"),
    ("link_hash", "this link already exists"),
)


def conflict(engine_message: str, *, missing: bool = False) -> Conflict:
    """The Conflict a failed constraint answers with."""
    if missing:
        return Conflict("it refers to a record that does not exist")
    for piece, meaning in KNOWN:
        if piece in engine_message:
            return Conflict(meaning)
    return Conflict("it conflicts with an existing record")
