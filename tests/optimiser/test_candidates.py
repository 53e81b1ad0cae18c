from datetime import timedelta
from types import MappingProxyType

from optimiser.candidates import build_candidates
from optimiser.problem import Problem, Protocol
from tests.optimiser.builders import AS_OF, household, unit


def test_identical_units_form_one_class_and_past_dates_count_as_today() -> None:
    units = (
        unit(id="b", available_from=AS_OF - timedelta(days=9)),
        unit(id="a"),
        unit(id="c", available_from=AS_OF + timedelta(days=1)),
        unit(id="d", cots=1),
    )
    c = build_candidates(Problem(households=(household(),), units=units, as_of=AS_OF))
    assert sorted(t.unit_ids for t in c.targets) == [("a", "b"), ("d",)], "c is never in time"
    assert sorted(c.capacity.tolist()) == [1, 2]


def test_units_free_by_the_same_deadline_are_one_class() -> None:
    later = household(id="h2", needed_by=AS_OF + timedelta(days=5))
    units = (
        unit(id="a"),
        unit(id="b", available_from=AS_OF + timedelta(days=2)),
        unit(id="c", available_from=AS_OF + timedelta(days=5)),
        unit(id="d", available_from=AS_OF + timedelta(days=6)),
    )
    c = build_candidates(Problem(households=(household(), later), units=units, as_of=AS_OF))
    assert sorted(t.unit_ids for t in c.targets) == [("a",), ("b", "c")]
    pairs = {
        (int(h), c.targets[int(t)].unit_ids) for h, t in zip(c.household, c.target, strict=True)
    }
    assert pairs == {(0, ("a",)), (1, ("a",)), (1, ("b", "c"))}


def test_only_feasible_pairs_get_a_variable() -> None:
    units = (unit(id="ok"), unit(id="small", bed_spaces=1, bedrooms=1))
    pair = household(members=household().members * 2)
    c = build_candidates(Problem(households=(pair,), units=units, as_of=AS_OF))
    assert [c.targets[t].unit_ids for t in c.target] == [("ok",)]


def test_couplings_kept_only_where_they_can_bind() -> None:
    cap = Protocol(
        id="p", members=frozenset({"A", "B"}), balance_cap=1, balances=MappingProxyType({})
    )
    fleeing = tuple(
        household(id=f"h{i}", avoid_authorities=frozenset({"A"}), perpetrator_ref="x")
        for i in range(2)
    )
    units = (
        unit(id="b1", authority_code="B", scheme_id="s1"),
        unit(id="b2", authority_code="B", scheme_id="s2"),
    )
    c = build_candidates(Problem(households=fleeing, units=units, protocols=(cap,), as_of=AS_OF))
    assert [(row.authority, row.limit, len(row.sends)) for row in c.caps] == [("A", 1, 4)]
    assert len(c.at_most_one) == 2
    one = build_candidates(
        Problem(households=fleeing[:1], units=units, protocols=(cap,), as_of=AS_OF)
    )
    assert one.caps == () and one.at_most_one == ()


def test_priority_dominates_any_quality() -> None:
    c = build_candidates(
        Problem(households=(household(), household(id="h2")), units=(unit(),), as_of=AS_OF)
    )
    scale = c.dominance_scale
    assert scale > c.quality.sum()
    assert (c.value(scale) // scale == c.priority[c.household]).all()
