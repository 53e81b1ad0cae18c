"""Hand-made instances whose optimum is known, and properties over random ones."""

from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings

from optimiser import allocate
from optimiser.candidates import build_candidates
from optimiser.greedy import greedy
from optimiser.problem import Household, Member, Problem, Protocol, RehousingOption, Weights
from tests.optimiser import strategies
from tests.optimiser.builders import AS_OF, LEEDS, MANCHESTER, STOCKPORT, household, unit
from tests.optimiser.checker import best_weighted_placed, check_allocation

ENGINES = ["mip", "cpsat"]


def solve(problem: Problem, engine: str = "mip") -> dict[str, str | None]:
    result = allocate(problem, time_limit_s=10, engine=engine, workers=2)
    check_allocation(problem, result)
    assert result.status == "optimal"
    return {a.household_id: a.unit_id or a.option_id for a in result.assignments}


@pytest.mark.parametrize("engine", ENGINES)
def test_optimiser_places_the_household_greedy_strands(engine: str) -> None:
    shared = unit(id="flat", location=STOCKPORT, bed_spaces=2, bedrooms=2)
    strands = Problem(
        households=(
            household(id="first", days_waiting=9, stay_near=(STOCKPORT,)),
            household(
                id="second", days_waiting=2, members=(Member(30, "female"), Member(3, "female"))
            ),
        ),
        units=(shared, unit(id="single", location=LEEDS, bed_spaces=1, bedrooms=1, scheme_id="s9")),
        as_of=AS_OF,
    )
    c = build_candidates(strands)
    assert len(greedy(strands, c)) == 1
    assert solve(strands, engine) == {"first": "single", "second": "flat"}


@pytest.mark.parametrize("engine", ENGINES)
def test_keep_apart_changes_the_answer(engine: str) -> None:
    best = [unit(id=f"best{i}", scheme_id="near", location=STOCKPORT) for i in range(2)]
    other = unit(id="other", scheme_id="far", location=LEEDS)

    def pair(ref: str | None) -> tuple[Household, ...]:
        return tuple(
            household(id=i, stay_near=(STOCKPORT,), perpetrator_ref=ref) for i in ("x", "y")
        )

    free = solve(Problem(households=pair(None), units=(*best, other), as_of=AS_OF), engine)
    assert set(free.values()) == {"best0", "best1"}
    linked = solve(Problem(households=pair("p1"), units=(*best, other), as_of=AS_OF), engine)
    assert sorted(str(v) for v in linked.values()) == ["best0", "other"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_reciprocal_cap_changes_the_answer(engine: str) -> None:
    fleeing = tuple(household(id=f"a{i}", avoid_authorities=frozenset({"A"})) for i in range(2))
    in_b = (unit(id="b1", authority_code="B"), unit(id="b2", authority_code="B"))
    cap = Protocol(
        id="gm", members=frozenset({"A", "B"}), balance_cap=1, balances=MappingProxyType({"A": 0})
    )
    sent = solve(Problem(households=fleeing, units=in_b, protocols=(cap,), as_of=AS_OF), engine)
    assert sum(v is not None for v in sent.values()) == 1
    uncapped = Protocol(id="gm", members=frozenset({"A", "B"}))
    assert all(
        solve(
            Problem(households=fleeing, units=in_b, protocols=(uncapped,), as_of=AS_OF), engine
        ).values()
    )
    from_b = household(id="b", authority_code="B", avoid_authorities=frozenset({"B"}))
    both_ways = solve(
        Problem(
            households=(*fleeing, from_b),
            units=(*in_b, unit(id="a1", authority_code="A")),
            protocols=(cap,),
            as_of=AS_OF,
        ),
        engine,
    )
    assert all(both_ways.values()), "receiving one lets A send one more"


@pytest.mark.parametrize("engine", ENGINES)
def test_moving_the_perpetrator_is_chosen(engine: str) -> None:
    stays = household(
        id="stays",
        home=MANCHESTER,
        perpetrator_move_possible=True,
        perpetrator_conditions=frozenset({"bail"}),
    )
    other = household(id="other")
    option = RehousingOption(
        id="r1",
        authority_code="L",
        location=LEEDS,
        available_from=AS_OF,
        accepts_conditions=frozenset({"bail"}),
    )
    result = allocate(
        Problem(
            households=(stays, other),
            units=(unit(id="only"),),
            rehousing_options=(option,),
            as_of=AS_OF,
        ),
        time_limit_s=10,
        engine=engine,
    )
    kinds = {a.household_id: (a.kind, a.unit_id, a.option_id) for a in result.assignments}
    assert kinds == {"stays": ("perpetrator_move", None, "r1"), "other": ("unit", "only", None)}
    assert result.perpetrator_moves == 1 and result.placed == 2


@pytest.mark.parametrize("engine", ENGINES)
def test_priority_before_quality(engine: str) -> None:
    calm = household(
        id="calm",
        stay_near=(STOCKPORT,),
        keep_school=True,
        members=(Member(30, "female"), Member(8, "female")),
        schools=(STOCKPORT,),
    )
    urgent = household(id="urgent", risk_level="high")
    result = solve(
        Problem(households=(calm, urgent), units=(unit(id="u", location=STOCKPORT),), as_of=AS_OF),
        engine,
    )
    assert result == {"calm": None, "urgent": "u"}


def test_a_perpetrator_is_moved_once_and_the_result_explains_itself() -> None:
    linked = tuple(
        household(id=i, home=MANCHESTER, perpetrator_move_possible=True, perpetrator_ref="p")
        for i in ("x", "y")
    )
    options = tuple(
        RehousingOption(id=f"r{i}", authority_code="L", location=LEEDS, available_from=AS_OF)
        for i in range(2)
    )
    result = allocate(Problem(households=linked, rehousing_options=options, units=(), as_of=AS_OF))
    assert result.perpetrator_moves == 1
    unplaced = next(a for a in result.assignments if a.kind == "unplaced")
    assert unplaced.binding is not None and unplaced.binding.kind == "keep_apart"
    assert "perpetrator's one move" in unplaced.explanation
    assert result.gap == 0.0 and result.objective == result.bound


def test_empty_and_hopeless_problems() -> None:
    assert allocate(Problem(households=(), units=(), as_of=AS_OF)).status == "optimal"
    nothing = allocate(Problem(households=(household(),), units=(), as_of=AS_OF))
    assert nothing.placed == 0
    assert "no unit or perpetrator-rehousing option" in nothing.assignments[0].explanation


def test_identical_units_are_handed_out_in_id_order() -> None:
    units = tuple(unit(id=f"u{i}") for i in (3, 1, 2))
    people = tuple(household(id=f"h{i}") for i in range(2))
    assert sorted(
        v for v in solve(Problem(households=people, units=units, as_of=AS_OF)).values() if v
    ) == ["u1", "u2"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.problems())
def test_every_allocation_passes_the_checker_and_beats_greedy(problem: Problem) -> None:
    for engine in ENGINES:
        result = allocate(problem, time_limit_s=10, engine=engine, workers=2)
        check_allocation(problem, result)
        c = build_candidates(problem)
        fcfs = greedy(problem, c)
        assert result.weighted_placed * 100 >= c.priority[c.household[fcfs]].sum() - 1e-6
        assert result.status == "optimal"
        if len(problem.households) <= 4:
            priority = [a.priority for a in result.assignments]
            assert abs(result.weighted_placed - best_weighted_placed(problem, priority)) < 1e-6


def test_extreme_weights_stay_exact() -> None:
    heavy = Weights(
        **{
            name: 100.0
            for name in (
                "school",
                "near",
                "cost",
                "priority_risk",
                "priority_children",
                "priority_waiting",
            )
        }
    )
    people = tuple(
        household(
            id=f"h{i}",
            days_waiting=365,
            risk_level="high",
            members=(Member(30, "female"), *[Member(3, "female")] * 4),
        )
        for i in range(3)
    )
    problem = Problem(
        households=people, units=(unit(id="u", bed_spaces=5),), weights=heavy, as_of=AS_OF
    )
    result = allocate(problem)
    check_allocation(problem, result)
    assert result.placed == 1 and result.status == "optimal"
