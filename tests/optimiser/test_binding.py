"""What binds an unplaced case, checked against the plain checker by brute force.

Each claim the optimiser makes about a case it left unplaced is re-derived here from the
rules alone (`tests.optimiser.checker`): a rule count by looping over units, "taken" by
looking at who holds every suitable unit, a cap by lifting it and trying the move.
"""

from collections import Counter
from dataclasses import replace
from types import MappingProxyType

from hypothesis import HealthCheck, given, settings

from optimiser import allocate
from optimiser.allocation import AllocationResult
from optimiser.bench_instances import instance
from optimiser.binding import Binding, CapBlock
from optimiser.problem import Problem, Protocol
from tests.optimiser import strategies
from tests.optimiser.builders import AS_OF, household, unit, woman
from tests.optimiser.checker import couplings_hold, move_violations, violations

Choice = tuple[str, str] | None


def choices(result: AllocationResult) -> list[Choice]:
    out: list[Choice] = []
    for a in result.assignments:
        if a.unit_id is not None:
            out.append(("unit", a.unit_id))
        elif a.option_id is not None:
            out.append(("move", a.option_id))
        else:
            out.append(None)
    return out


def suitable(problem: Problem, i: int) -> list[tuple[str, str]]:
    h = problem.households[i]
    return [
        ("unit", u.id)
        for u in problem.units
        if not violations(h, u, problem.protocols, problem.as_of, caps=False)
    ] + [
        ("move", o.id)
        for o in problem.rehousing_options
        if not move_violations(h, o, problem.weights, problem.as_of)
    ]


def moves_into(
    problem: Problem, result: AllocationResult, i: int
) -> list[tuple[tuple[str, str], list[Choice]]]:
    """Every way to give case ``i`` a suitable target: taking it free, or from a holder of
    lower priority (who is then unplaced)."""
    picked = choices(result)
    out = []
    for target in suitable(problem, i):
        holder = next((j for j, c in enumerate(picked) if c == target), None)
        if holder is not None and result.assignments[holder].priority >= (
            result.assignments[i].priority
        ):
            continue
        trial = list(picked)
        if holder is not None:
            trial[holder] = None
        trial[i] = target
        out.append((target, trial))
    return out


def lifted(problem: Problem, protocol_ids: set[str]) -> Problem:
    return replace(
        problem,
        protocols=tuple(
            replace(p, balance_cap=None) if p.id in protocol_ids else p for p in problem.protocols
        ),
    )


def check_binding(problem: Problem, result: AllocationResult, i: int, b: Binding) -> None:
    h = problem.households[i]
    targets = suitable(problem, i)
    assert b.suitable_units == sum(kind == "unit" for kind, _ in targets)
    assert b.suitable_options == sum(kind == "move" for kind, _ in targets)
    if b.kind == "no_suitable_unit":
        assert targets == []
        expected = Counter(
            r
            for u in problem.units
            for r in violations(h, u, problem.protocols, problem.as_of, caps=False)
        )
        assert dict(b.ruled_out) == dict(expected)
        options = Counter(
            r
            for o in problem.rehousing_options
            for r in move_violations(h, o, problem.weights, problem.as_of)
        )
        assert dict(b.options_ruled_out) == dict(options)
        return
    picked = choices(result)
    held = Counter(result.assignments[picked.index(t)].priority for t in targets if t in picked)
    assert dict(b.taken_by) == dict(held)
    assert [p for p, _ in b.taken_by] == sorted(held, reverse=True)
    ways = moves_into(problem, result, i)
    if b.kind == "taken":
        assert ways == []
        return
    # A proven optimum leaves no free way in; something coupling cases blocks each one.
    assert all(not couplings_hold(problem, trial) for _, trial in ways)
    if b.kind == "balance_cap":
        assert b.caps
        units = {u.id: u for u in problem.units}
        relaxed = lifted(problem, {cap.protocol_id for cap in b.caps})
        let_in = [t for t, trial in ways if t[0] == "unit" and couplings_hold(relaxed, trial)]
        assert let_in, "lifting the named caps lets the case in"
        own = [cap for cap in b.caps if cap.receiver is not None]
        assert all(cap.sender == h.authority_code for cap in own)
        assert {c.receiver for c in own} <= {units[t[1]].authority_code for t in let_in}
    else:
        assert b.kind == "keep_apart"
        everything = lifted(problem, {p.id for p in problem.protocols})
        assert any(not couplings_hold(everything, trial) for _, trial in ways)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.problems())
def test_every_unplaced_case_is_explained_by_what_binds_it(problem: Problem) -> None:
    result = allocate(problem, time_limit_s=10)
    assert result.status == "optimal"
    for i, a in enumerate(result.assignments):
        if a.kind != "unplaced":
            assert a.binding is None
            continue
        assert a.binding is not None and a.binding.kind != "not_proven"
        check_binding(problem, result, i, a.binding)


def test_a_case_nothing_fits_names_the_rules_and_how_many_units_each_rules_out() -> None:
    big = household(members=(woman(), woman(8), woman(10), woman(12)), id="big")
    result = allocate(
        Problem(
            households=(big,),
            units=(unit(id="small", bed_spaces=2), unit(id="men", gender_policy="men_only")),
            as_of=AS_OF,
        )
    )
    [a] = result.assignments
    assert a.binding == Binding(
        "no_suitable_unit",
        ruled_out=(("capacity_bed_spaces", 1), ("gender_policy", 1)),
    )


def test_units_gone_to_higher_priority_cases_are_counted_by_their_priority() -> None:
    urgent = household(id="urgent", risk_level="high")
    waiting = household(id="waiting", risk_level="standard")
    result = allocate(Problem(households=(urgent, waiting), units=(unit(),), as_of=AS_OF))
    unplaced = result.assignments[1]
    assert unplaced.binding == Binding("taken", suitable_units=1, taken_by=((3.0, 1),))


def test_a_cap_that_alone_keeps_a_case_out_is_named_with_both_authorities() -> None:
    """A may send one more than it receives into B; two A cases could use B's units."""
    cases = tuple(household(id=f"a{i}", avoid_authorities=frozenset({"A"})) for i in range(2))
    in_b = tuple(unit(id=f"b{i}", authority_code="B") for i in range(2))
    cap = Protocol(
        id="gm", members=frozenset({"A", "B"}), balance_cap=1, balances=MappingProxyType({})
    )
    result = allocate(Problem(households=cases, units=in_b, protocols=(cap,), as_of=AS_OF))
    [unplaced] = [a for a in result.assignments if a.kind == "unplaced"]
    assert unplaced.binding is not None
    assert unplaced.binding.kind == "balance_cap"
    assert unplaced.binding.caps == (CapBlock("gm", "A", "B"),)
    assert unplaced.binding.suitable_units == 2


def test_a_swap_that_would_cost_another_authority_its_room_is_a_cap() -> None:
    """B may send one into A only while it receives one. The unit in B holds an A case
    (priority 1); B's own case (priority 1.5) could have it, but then B would receive
    nothing and its case placed in A would break B's cap: that cap, not priority, binds."""
    cap = Protocol(
        id="p1",
        members=frozenset({"A", "B"}),
        balance_cap=1,
        balances=MappingProxyType({"B": 1}),
    )
    problem = Problem(
        households=(
            household(id="from_a", authority_code="A", avoid_authorities=frozenset({"A"})),
            household(id="from_b", authority_code="B", avoid_authorities=frozenset({"B"})),
            household(
                id="local_b",
                authority_code="B",
                members=(woman(), woman(5)),
                avoid_authorities=frozenset({"A"}),
            ),
        ),
        units=(
            unit(id="in_b", authority_code="B", scheme_id="sb"),
            unit(id="in_a", authority_code="A"),
        ),
        protocols=(cap,),
        as_of=AS_OF,
    )
    result = allocate(problem, time_limit_s=10)
    assert [a.unit_id for a in result.assignments] == ["in_b", "in_a", None]
    binding = result.assignments[2].binding
    assert binding is not None
    assert binding.kind == "balance_cap"
    assert binding.caps == (CapBlock("p1", "B", None),)
    check_binding(problem, result, 2, binding)


def test_no_case_of_a_proven_regional_optimum_is_left_unexplained() -> None:
    """The benchmark's regional instance (300 cases, 2,000 units, capped protocols): a
    proven optimum has no case it could simply have placed, so every binding is a real
    constraint."""
    problem = instance("regional", 1)
    result = allocate(problem, time_limit_s=60)
    assert result.status == "optimal"
    kinds = Counter(a.binding.kind for a in result.assignments if a.binding is not None)
    assert kinds["not_proven"] == 0
    assert {"no_suitable_unit", "taken", "balance_cap"} <= set(kinds)
    assert sum(kinds.values()) == len(problem.households) - result.placed
