"""Provider records: normalisation and refusal of what cannot be a provider."""

import re

import pytest

from hub.errors import BadRequest
from hub.operations.pricing import PriceRule
from hub.operations.providers import (
    DispatchProfile,
    NewProvider,
    checked,
    checked_profile,
    new_device_key,
    normalise_phone,
)


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


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (DispatchProfile(services=frozenset({"rocket"})), "unknown service"),
        (
            DispatchProfile(
                services=frozenset({"taxi"}),
                prices={"light_tow": PriceRule(base_fee_cents=100)},
            ),
            "prices for services not offered: light_tow",
        ),
        (DispatchProfile(base=(91.0, 0.0)), "out of range"),
        (DispatchProfile(base=(0.0, 181.0)), "out of range"),
        (
            DispatchProfile(partner_of=frozenset({1, 2}), excluded_by=frozenset({2})),
            "both partner and excluding: [2]",
        ),
    ],
)
def test_impossible_profiles_are_refused(profile, message):
    with pytest.raises(BadRequest, match=re.escape(message)):
        checked_profile(profile)


def test_a_sound_profile_passes_with_its_city_tidied():
    profile = DispatchProfile(
        services=frozenset({"taxi"}),
        prices={"taxi": PriceRule(base_fee_cents=100)},
        city="  São   Paulo ",
        base=(-23.5, -46.6),
    )
    assert checked_profile(profile).city == "São Paulo"
