from hypothesis import given, settings
from hypothesis import strategies as st

from optimiser import options_for_household, rules_broken
from optimiser.problem import Household, Protocol, Unit, Weights
from optimiser.unit_table import UnitTable
from tests.optimiser import strategies
from tests.optimiser.builders import AS_OF, household, unit
from tests.optimiser.checker import violations


def test_a_fitting_pair_breaks_nothing_and_a_small_unit_breaks_capacity() -> None:
    assert rules_broken(unit(), household(), (), AS_OF) == ()
    crowded = household(members=household().members * 3)
    assert "capacity_bed_spaces" in rules_broken(unit(bed_spaces=1), crowded, (), AS_OF)


def test_keep_apart_is_checked_for_the_pair() -> None:
    u = unit()
    assert rules_broken(u, household(), (), AS_OF, linked_schemes=frozenset({u.scheme_id})) == (
        "keep_apart",
    )


@settings(max_examples=300, deadline=None)
@given(
    strategies.households(),
    strategies.units(),
    strategies.protocols(),
    st.frozensets(st.sampled_from(["s0", "s1", "s2"]), max_size=2),
)
def test_the_pair_check_agrees_with_the_ranking_and_the_independent_checker(
    h: Household, u: Unit, protocols: tuple[Protocol, ...], linked: frozenset[str]
) -> None:
    broken = rules_broken(u, h, protocols, AS_OF, linked_schemes=linked)
    assert set(broken) == violations(h, u, protocols, AS_OF, linked_schemes=linked)
    ranked = options_for_household(
        UnitTable.from_units([u]), h, protocols, Weights(), AS_OF, 1, linked_schemes=linked
    )
    assert ranked.feasible == (not broken)
    if broken:
        assert list(ranked.nearest_misses[0].reasons) == list(broken)
