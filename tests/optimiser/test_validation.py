import math
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimiser import ProblemError, allocate, options_for_household, perpetrator_options
from optimiser.enums import Support
from optimiser.problem import Member, Point, Problem, Protocol, RehousingOption, Weights, Zone
from optimiser.unit_table import UnitTable
from optimiser.validation import _finite, _member_of, _point, _set_of
from tests.optimiser.builders import AS_OF, MANCHESTER, household, unit, woman


def problem(**kw: object) -> Problem:
    defaults: dict[str, object] = dict(households=(household(),), units=(unit(),), as_of=AS_OF)
    return Problem(**(defaults | kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (
            problem(households=(household(), household(id="h2", members=()))),
            "households[1].members",
        ),
        (
            problem(households=(household(perpetrator_zones=(Zone(MANCHESTER, -1.0),)),)),
            "households[0].perpetrator_zones[0].radius_km",
        ),
        (problem(units=(unit(), unit(id="u2", bed_spaces=0))), "units[1].bed_spaces"),
        (problem(weights=Weights(school=math.inf)), "weights.school"),
        (problem(weights=Weights(cost=math.nan)), "weights.cost"),
        (problem(weights=Weights(near=-1.0)), "weights.near"),
        (problem(weights=Weights(priority_waiting=1e6)), "weights.priority_waiting"),
        (problem(weights=Weights(cost_scale=0.0)), "weights.cost_scale"),
        (problem(households=(household(home=Point(91.0, 0.0)),)), "households[0].home.lat"),
        (problem(units=(unit(location=Point(50.0, 181.0)),)), "units[0].location.lon"),
        (problem(households=(household(risk_level="extreme"),)), "households[0].risk_level"),
        (problem(units=(unit(gender_policy="women"),)), "units[0].gender_policy"),
        (
            problem(households=(household(members=(Member(30, "woman"),)),)),
            "households[0].members[0].gender",
        ),
        (
            problem(households=(household(members=(Member(-1, "female"),)),)),
            "households[0].members[0].age",
        ),
        (
            problem(households=(household(members=(woman(access_needs=frozenset({"lift"})),)),)),
            "households[0].members[0].access_needs",
        ),
        (problem(households=(household(space_need="quiet"),)), "households[0].space_need"),
        (problem(households=(household(), household())), "households[1].id"),
        (problem(units=(unit(), unit())), "units[1].id"),
        (problem(units=(unit(weekly_cost=-5.0),)), "units[0].weekly_cost"),
        (problem(units=(unit(bedrooms=0),)), "units[0].bedrooms"),
        (problem(units=(unit(available_from="2025-01-01"),)), "units[0].available_from"),
        (problem(protocols=(Protocol(id="p", members=frozenset({"A"})),)), "protocols[0].members"),
        (
            problem(protocols=(Protocol(id="p", members=frozenset({"A", "B"}), balance_cap=-1),)),
            "protocols[0].balance_cap",
        ),
        (
            problem(
                protocols=(
                    Protocol(
                        id="p", members=frozenset({"A", "B"}), balances=MappingProxyType({"C": 1})
                    ),
                )
            ),
            "protocols[0].balances['C']",
        ),
        (
            problem(
                rehousing_options=(
                    RehousingOption(
                        id="r",
                        authority_code="A",
                        location=MANCHESTER,
                        available_from=AS_OF,
                        accepts_conditions=frozenset({"parole"}),
                    ),
                )
            ),
            "rehousing_options[0].accepts_conditions",
        ),
        (problem(households=(household(days_waiting=-3),)), "households[0].days_waiting"),
        (problem(households=(household(language_essential=True),)), "households[0].languages"),
        (problem(as_of="today"), "as_of"),
    ],
)
def test_bad_problems_name_the_field(bad: Problem, field: str) -> None:
    with pytest.raises(ProblemError) as error:
        allocate(bad, time_limit_s=1)
    assert error.value.field == field
    assert field in str(error.value)
    assert isinstance(error.value, ValueError)


def test_allocation_arguments_are_checked() -> None:
    with pytest.raises(ProblemError, match="time_limit_s"):
        allocate(problem(), time_limit_s=math.nan)
    with pytest.raises(ProblemError, match="engine"):
        allocate(problem(), engine="gurobi")
    with pytest.raises(ProblemError, match="workers"):
        allocate(problem(), workers=0)


def test_options_and_table_validate_their_inputs() -> None:
    table = UnitTable.from_units([unit()])
    with pytest.raises(ProblemError) as error:
        options_for_household(table, household(members=()), (), Weights(), AS_OF)
    assert error.value.field == "household.members"
    with pytest.raises(ProblemError, match="limit"):
        options_for_household(table, household(), (), Weights(), AS_OF, limit=-1)
    with pytest.raises(ProblemError, match=r"units\[0\].bed_spaces"):
        UnitTable.from_units([unit(bed_spaces=0)])
    with pytest.raises(ProblemError, match="as_of"):
        perpetrator_options(household(), (), Weights(), "2025-01-01")  # type: ignore[arg-type]


def test_weights_found_valid_once_do_not_vouch_for_equal_invalid_ones() -> None:
    """Weights are checked once per object; another object equal to a valid one is still
    checked, so a flag given as a weight (`True == 1.0`) is refused after the valid one
    has been used."""
    table = UnitTable.from_units([unit()])
    valid = Weights(cost=1.0)
    for _ in range(2):
        assert options_for_household(table, household(), (), valid, AS_OF).checked == 1
    flag = Weights(cost=True)  # type: ignore[arg-type]
    assert flag == valid
    with pytest.raises(ProblemError) as error:
        options_for_household(table, household(), (), flag, AS_OF)
    assert error.value.field == "weights.cost"


def test_enum_members_and_plain_strings_are_both_accepted() -> None:
    from optimiser.enums import Gender, GenderPolicy

    h = household(members=(Member(30, Gender.FEMALE),))
    u = replace(unit(), gender_policy=GenderPolicy.WOMEN_ONLY)
    result = allocate(problem(households=(h,), units=(u,)), time_limit_s=5)
    assert result.placed == 1
    assert isinstance(AS_OF, date)


def verdict(check: Callable[[], None]) -> str | None:
    try:
        check()
    except ProblemError as error:
        return str(error)
    return None


def plain_point(lat: object, lon: object) -> None:
    """A point's checks the plain way, one by one, as before the in-range shortcut."""
    _finite(lat, "p.lat", minimum=-math.inf)
    _finite(lon, "p.lon", minimum=-math.inf)
    if not -90.0 <= lat <= 90.0:  # type: ignore[operator]
        raise ProblemError("p.lat", "latitude must be between -90 and 90")
    if not -180.0 <= lon <= 180.0:  # type: ignore[operator]
        raise ProblemError("p.lon", "longitude must be between -180 and 180")


coordinates = st.one_of(
    st.floats(-200.0, 200.0), st.floats(), st.integers(-200, 200), st.booleans()
)


@settings(max_examples=300, deadline=None)
@given(coordinates, coordinates)
def test_a_point_is_judged_as_the_plain_checks_judge_it(lat: object, lon: object) -> None:
    point = Point(lat, lon)  # type: ignore[arg-type]
    assert verdict(lambda: _point(point, "p")) == verdict(lambda: plain_point(lat, lon))


@settings(max_examples=200, deadline=None)
@given(st.frozensets(st.sampled_from((*Support, "bogus", "zzz", "Mental_health")), max_size=4))
def test_a_set_is_judged_as_the_plain_walk_judges_it(values: frozenset[str]) -> None:
    def plain() -> None:
        for value in sorted(values, key=str):
            _member_of(value, Support, "s")

    assert verdict(lambda: _set_of(values, Support, "s")) == verdict(plain)
