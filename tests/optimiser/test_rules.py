"""Every hard rule: a case that passes, a case that fails, and the edges."""

from collections.abc import Sequence
from datetime import timedelta
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import given, settings

from optimiser.geo import distance_km
from optimiser.problem import Household, Member, Point, Protocol, Unit, Zone
from optimiser.rules import Request, accepts_policy, broken_rules, feasible
from optimiser.unit_table import UnitTable
from tests.optimiser import strategies
from tests.optimiser.builders import AS_OF, LEEDS, MANCHESTER, household, unit, woman
from tests.optimiser.checker import violations


def breaks(
    h: Household,
    u: Unit,
    protocols: Sequence[Protocol] = (),
    linked: frozenset[str] = frozenset(),
    *,
    checked: bool = True,
) -> set[str]:
    """The rules the pair breaks, agreeing with the independent checker unless the case
    sits on a floating-point edge that two distance formulas may round apart."""
    table = UnitTable.from_units([u])
    request = Request.build(table, h, protocols, AS_OF, linked_schemes=linked)
    found = {str(reason) for reason, mask in broken_rules(table, request) if mask[0]}
    if checked:
        assert found == violations(h, u, protocols, AS_OF, linked_schemes=linked)
    return found


def test_a_plain_pair_breaks_nothing() -> None:
    assert breaks(household(), unit()) == set()


@pytest.mark.parametrize(
    ("members", "beds", "cots", "fails"),
    [
        ((woman(), Member(5, "male")), 2, 0, False),
        ((woman(), Member(5, "male"), Member(7, "female")), 2, 0, True),
        ((woman(), Member(1, "male")), 1, 1, False),
        ((woman(), Member(1, "male")), 1, 0, True),
        ((woman(), Member(2, "male")), 1, 1, True),
    ],
)
def test_capacity_bed_spaces(
    members: tuple[Member, ...], beds: int, cots: int, fails: bool
) -> None:
    h = household(members=members)
    assert ("capacity_bed_spaces" in breaks(h, unit(bed_spaces=beds, cots=cots))) is fails


def test_capacity_bedrooms_in_a_self_contained_home() -> None:
    h = household(members=(woman(), Member(12, "male"), Member(11, "female")))
    flat = "dispersed_accommodation"
    assert "capacity_bedrooms" not in breaks(h, unit(bedrooms=3, scheme_type=flat))
    assert "capacity_bedrooms" in breaks(h, unit(bedrooms=2, scheme_type=flat))
    assert "capacity_bedrooms" in breaks(
        h, unit(bedrooms=1, scheme_type="second_stage_accommodation")
    )


def test_a_family_shares_a_refuge_room_by_bed_spaces() -> None:
    """A woman with two children fits a one-bedroom refuge room with three bed spaces:
    refuges are shared accommodation, and the bedroom standard is for homes of one's own."""
    h = household(members=(woman(), Member(4, "male"), Member(8, "female")))
    room = unit(bedrooms=1, bed_spaces=3, scheme_type="refuge")
    assert breaks(h, room) == set()
    assert breaks(h, unit(bedrooms=1, bed_spaces=2, scheme_type="refuge")) == {
        "capacity_bed_spaces"
    }


def test_a_unit_may_say_for_itself_whether_it_is_self_contained() -> None:
    h = household(members=(woman(), Member(12, "male"), Member(11, "female")))
    refuge_flat = unit(bedrooms=1, scheme_type="refuge", self_contained=True)
    shared_house = unit(bedrooms=1, scheme_type="dispersed_accommodation", self_contained=False)
    assert "capacity_bedrooms" in breaks(h, refuge_flat)
    assert "capacity_bedrooms" not in breaks(h, shared_house)


@pytest.mark.parametrize(
    ("policy", "adult", "need", "fits"),
    [
        ("women_only", "female", None, True),
        ("women_only", "male", None, False),
        ("women_only", "non_binary", None, False),
        ("men_only", "male", None, True),
        ("men_only", "female", None, False),
        ("any_gender", "non_binary", None, True),
        ("any_gender", "female", "women_only", False),
        ("women_only", "female", "women_only", True),
        ("lgbtq_specialist", "non_binary", "lgbtq_specialist", True),
        ("lgbtq_specialist", "female", None, False),
        ("any_gender", "male", "lgbtq_specialist", False),
    ],
)
def test_gender_policy(policy: str, adult: str, need: str | None, fits: bool) -> None:
    h = household(members=(Member(30, adult),), space_need=need)
    assert ("gender_policy" not in breaks(h, unit(gender_policy=policy))) is fits
    assert accepts_policy(policy, frozenset({adult}), need) is fits


def test_a_grown_son_is_an_adult_man_for_a_women_only_scheme() -> None:
    h = household(members=(woman(), Member(18, "male")))
    assert "gender_policy" in breaks(h, unit(gender_policy="women_only", max_boy_age=17))


@pytest.mark.parametrize(("age", "fails"), [(13, False), (14, True)])
def test_boy_age_limit_is_inclusive(age: int, fails: bool) -> None:
    h = household(members=(woman(), Member(age, "male")))
    assert ("boy_age" in breaks(h, unit(max_boy_age=13))) is fails


def test_girls_and_no_limit_pass_boy_age() -> None:
    assert "boy_age" not in breaks(
        household(members=(woman(), Member(16, "female"))), unit(max_boy_age=10)
    )
    assert "boy_age" not in breaks(
        household(members=(woman(), Member(16, "male"))), unit(max_boy_age=None)
    )


def test_access_needs_of_every_member() -> None:
    h = household(members=(woman(), Member(9, "female", frozenset({"wheelchair"}))))
    assert "access" in breaks(h, unit(access_features=frozenset({"step_free"})))
    assert "access" not in breaks(h, unit(access_features=frozenset({"wheelchair", "step_free"})))


def test_nrpf() -> None:
    assert "nrpf" in breaks(household(nrpf=True), unit(accepts_nrpf=False))
    assert "nrpf" not in breaks(household(nrpf=True), unit(accepts_nrpf=True))
    assert "nrpf" not in breaks(household(nrpf=False), unit(accepts_nrpf=False))


@pytest.mark.parametrize(
    ("risk", "scheme", "fails"),
    [
        ("high", "high", False),
        ("high", "medium", True),
        ("standard", "standard", False),
        ("medium", "standard", True),
    ],
)
def test_risk(risk: str, scheme: str, fails: bool) -> None:
    assert ("risk" in breaks(household(risk_level=risk), unit(max_risk_level=scheme))) is fails


def test_exclusion_zone_inside_and_outside() -> None:
    near = household(perpetrator_zones=(Zone(MANCHESTER, 5.0),))
    assert "exclusion_zone" in breaks(near, unit(location=MANCHESTER))
    assert "exclusion_zone" not in breaks(near, unit(location=LEEDS))


def test_a_unit_exactly_on_the_radius_is_inside() -> None:
    radius = distance_km(LEEDS, MANCHESTER)
    on_edge = household(perpetrator_zones=(Zone(LEEDS, radius),))
    assert "exclusion_zone" in breaks(on_edge, unit(location=MANCHESTER), checked=False)
    assert "exclusion_zone" in breaks(
        household(perpetrator_zones=(Zone(MANCHESTER, 0.0),)), unit(location=MANCHESTER)
    )
    just_outside = household(perpetrator_zones=(Zone(LEEDS, radius * (1 - 1e-9)),))
    assert "exclusion_zone" not in breaks(just_outside, unit(location=MANCHESTER), checked=False)


def test_avoid_authority() -> None:
    h = household(avoid_authorities=frozenset({"A"}))
    assert "avoid_authority" in breaks(h, unit(authority_code="A"))
    assert "avoid_authority" not in breaks(
        h, unit(authority_code="B"), [Protocol(id="p", members=frozenset({"A", "B"}))]
    )


def test_protocol_lets_members_place_into_each_other() -> None:
    both = [Protocol(id="gm", members=frozenset({"A", "B"}))]
    assert "protocol" in breaks(household(), unit(authority_code="B"))
    assert "protocol" not in breaks(household(), unit(authority_code="B"), both)
    assert "protocol" in breaks(household(), unit(authority_code="C"), both)


def test_balance_cap_stops_a_sender_at_its_cap_only() -> None:
    def capped(balance: int) -> list[Protocol]:
        return [
            Protocol(
                id="gm",
                members=frozenset({"A", "B"}),
                balance_cap=2,
                balances=MappingProxyType({"A": balance}),
            )
        ]

    assert "balance_cap" not in breaks(household(), unit(authority_code="B"), capped(1))
    assert "balance_cap" in breaks(household(), unit(authority_code="B"), capped(2))
    assert "balance_cap" not in breaks(household(), unit(authority_code="A"), capped(2))


def test_availability_by_needed_by_or_today() -> None:
    later = household(needed_by=AS_OF + timedelta(days=7))
    assert "not_available_yet" not in breaks(later, unit(available_from=AS_OF + timedelta(days=7)))
    assert "not_available_yet" in breaks(later, unit(available_from=AS_OF + timedelta(days=8)))
    overdue = household(needed_by=AS_OF - timedelta(days=3))
    assert "not_available_yet" not in breaks(overdue, unit(available_from=AS_OF))


def test_pets() -> None:
    assert "pets" in breaks(household(pets=True), unit(accepts_pets=False))
    assert "pets" not in breaks(household(pets=True), unit(accepts_pets=True))


def test_essential_language_needs_any_one_language() -> None:
    h = household(languages=("ur", "en"), language_essential=True)
    assert "language" in breaks(h, unit(languages=frozenset({"pl"})))
    assert "language" not in breaks(h, unit(languages=frozenset({"en"})))
    wish = household(languages=("ur",), language_essential=False)
    assert "language" not in breaks(wish, unit())


def test_essential_support_needs_every_need() -> None:
    h = household(
        support_needs=frozenset({"mental_health", "substance_use"}), support_essential=True
    )
    assert "support" in breaks(h, unit(support=frozenset({"mental_health"})))
    assert "support" not in breaks(h, unit(support=frozenset({"mental_health", "substance_use"})))
    assert "support" not in breaks(household(support_needs=frozenset({"mental_health"})), unit())


def test_keep_apart_rules_out_schemes_of_linked_households() -> None:
    assert "keep_apart" in breaks(household(), unit(scheme_id="s1"), linked=frozenset({"s1"}))
    assert "keep_apart" not in breaks(household(), unit(scheme_id="s2"), linked=frozenset({"s1"}))


def test_a_household_from_outside_england_is_checked_like_any_other() -> None:
    cardiff = household(
        authority_code="W06000015", perpetrator_zones=(Zone(Point(51.48, -3.18), 10.0),)
    )
    gm = [Protocol(id="x", members=frozenset({"W06000015", "A"}))]
    assert breaks(cardiff, unit(), gm) == set()


@settings(max_examples=60, deadline=None)
@given(strategies.households(), strategies.unit_lists(), strategies.protocols())
def test_feasible_is_the_units_no_broken_rule_rules_out(
    h: Household, units: list[Unit], protocols: tuple[Protocol, ...]
) -> None:
    """``feasible`` reduces the rule matrix in one call; the plain way is a mask per
    broken rule, and both must keep the same units."""
    table = UnitTable.from_units(units)
    request = Request.build(table, h, protocols, AS_OF)
    plain = np.ones(len(table), dtype=np.bool_)
    for _, mask in broken_rules(table, request):
        plain &= ~mask
    assert np.array_equal(feasible(table, request), plain)
