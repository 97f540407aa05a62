"""Provider records: normalisation and refusal of what cannot be a provider."""

import pytest

from hub.errors import BadRequest
from hub.operations.providers import NewProvider, checked, new_device_key, normalise_phone


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("+55 (11) 99999-0000", "+5511999990000"), ("11 3333.4444", "1133334444")],
)
def test_phones_are_normalised(raw, clean):
    assert normalise_phone(raw) == clean


@pytest.mark.parametrize("raw", ["12", "phone", "+55 11 9999-0000-12345-6789", "++5511999990000"])
def test_impossible_phones_are_refused(raw):
    with pytest.raises(BadRequest, match="not a phone number"):
        normalise_phone(raw)


def test_names_are_trimmed_and_blank_refused():
    assert checked(NewProvider(name="  Guincho   Silva ", phone="11999990000")).name == (
        "Guincho Silva"
    )
    with pytest.raises(BadRequest, match="blank"):
        checked(NewProvider(name="   ", phone="11999990000"))


def test_device_keys_are_unguessable_and_distinct():
    keys = {new_device_key() for _ in range(1000)}
    assert len(keys) == 1000
    assert all(len(k) >= 24 for k in keys)
