"""Reading the search box; the rules a plan and a beneficiary must follow."""

import pytest

from hub.errors import BadRequest
from hub.operations.beneficiaries import (
    Address,
    Limit,
    NewBeneficiary,
    NewPlan,
    NewVehicle,
    SearchKind,
    check_street,
    checked_beneficiary,
    checked_plan,
    search_kind,
)


@pytest.mark.parametrize(
    ("term", "kind", "canonical"),
    [
        ("529.982.247-25", SearchKind.CPF, "52998224725"),
        ("abc-1234", SearchKind.PLATE, "ABC1234"),
        ("bra2e19", SearchKind.PLATE, "BRA2E19"),
        ("  Conceição ", SearchKind.NAME, "conceicao"),
        ("52998224724", SearchKind.NAME, "52998224724"),  # not a valid CPF: a name piece
    ],
)
def test_the_search_box_is_read_as_cpf_plate_or_name(term, kind, canonical):
    assert search_kind(term) == (kind, canonical)


def test_two_characters_are_not_a_search():
    with pytest.raises(BadRequest, match="3 characters"):
        search_kind(" ab ")


@pytest.mark.parametrize(
    "street", ["Avenida Nove de Julho, 150", "Av. Paulista, nº 1578", "Rua X, 12A"]
)
def test_the_street_holds_only_its_name(street):
    with pytest.raises(BadRequest, match="number"):
        check_street(Address(street=street))


@pytest.mark.parametrize("street", ["Rua 25 de Março", "BR-116", "Avenida Nove de Julho"])
def test_numbers_that_belong_to_the_name_are_fine(street):
    check_street(Address(street=street))


def base(**changes) -> NewBeneficiary:
    fields = {
        "client_id": 1,
        "plan_id": 1,
        "name": " Ana  Souza ",
        "cpf": "111.444.777-35",
        "vehicles": [NewVehicle(plate="abc1234")],
    }
    return NewBeneficiary(**{**fields, **changes})


def test_a_sound_beneficiary_is_tidied():
    checked = checked_beneficiary(base())
    assert (checked.name, checked.cpf, checked.vehicles[0].plate) == (
        "Ana Souza",
        "11144477735",
        "ABC1234",
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"address": Address(lat=-23.5)}, "lat and lng go together"),
        ({"active_from_ms": 10, "active_until_ms": 5}, "before"),
        (
            {"vehicles": [NewVehicle(plate="ABC1234"), NewVehicle(plate="abc-1234")]},
            "same plate twice",
        ),
        ({"cpf": "123"}, "11 digits"),
    ],
)
def test_impossible_beneficiaries_are_refused(changes, message):
    with pytest.raises(BadRequest, match=message):
        checked_beneficiary(base(**changes))


def test_plans_cover_catalogue_services_only():
    assert (
        checked_plan(NewPlan(client_id=1, name=" Ouro ", coverage={"taxi": Limit()})).name == "Ouro"
    )
    with pytest.raises(BadRequest) as caught:
        checked_plan(NewPlan(client_id=1, name="X", coverage={"rocket": Limit()}))
    assert caught.value.code == "unknown_service"
