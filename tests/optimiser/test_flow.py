from optimiser.candidates import build_candidates
from optimiser.flow import solve_flow
from optimiser.problem import Member, Problem
from tests.optimiser.builders import AS_OF, household, unit


def test_flow_finds_the_assignment_greedy_would_miss() -> None:
    flexible = household(id="flex")
    family = household(id="family", members=(Member(30, "female"), Member(4, "female")))
    units = (
        unit(id="big", bed_spaces=2, bedrooms=2),
        unit(id="small", bed_spaces=1, bedrooms=1, scheme_id="s2"),
    )
    c = build_candidates(Problem(households=(flexible, family), units=units, as_of=AS_OF))
    chosen = solve_flow(c, c.dominance_scale)
    got = {int(c.household[p]): c.targets[int(c.target[p])].unit_ids for p in chosen}
    assert got == {0: ("small",), 1: ("big",)}


def test_flow_respects_class_capacity() -> None:
    people = tuple(household(id=f"h{i}") for i in range(5))
    c = build_candidates(
        Problem(households=people, units=(unit(id="a"), unit(id="b")), as_of=AS_OF)
    )
    assert len(solve_flow(c, c.dominance_scale)) == 2
