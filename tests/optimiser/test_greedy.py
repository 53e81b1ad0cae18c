import numpy as np

from optimiser.candidates import build_candidates
from optimiser.greedy import best_pairs, greedy, referral_order, repaired
from optimiser.problem import Problem
from tests.optimiser.builders import AS_OF, household, unit


def test_longest_waiting_goes_first_then_id() -> None:
    people = (
        household(id="b", days_waiting=3),
        household(id="a", days_waiting=3),
        household(id="c", days_waiting=9),
    )
    problem = Problem(households=people, units=(unit(),), as_of=AS_OF)
    assert referral_order(problem) == [2, 1, 0]
    c = build_candidates(problem)
    assert [int(c.household[p]) for p in greedy(problem, c)] == [2]


def test_repair_mends_a_relaxed_allocation_that_breaks_keep_apart() -> None:
    linked = tuple(household(id=f"h{i}", perpetrator_ref="x") for i in range(2))
    units = (unit(id="a"), unit(id="b"), unit(id="c", scheme_id="s2", weekly_cost=900.0))
    problem = Problem(households=linked, units=units, as_of=AS_OF)
    c = build_candidates(problem)
    both_in_s1 = [
        p for p in range(len(c.household)) if c.targets[int(c.target[p])].scheme_id == "s1"
    ]
    fixed = repaired(c, np.array(both_in_s1), c.value(c.dominance_scale))
    assert sorted(c.targets[int(c.target[p])].scheme_id or "" for p in fixed) == ["s1", "s2"]


def test_best_pairs_keeps_each_households_best_k() -> None:
    people = (household(id="h1"), household(id="h2"))
    units = tuple(unit(id=f"u{i}", scheme_id=f"s{i}", weekly_cost=100.0 * i) for i in range(1, 4))
    c = build_candidates(Problem(households=people, units=units, as_of=AS_OF))
    kept = best_pairs(c, 2)
    for h in range(2):
        mine = np.flatnonzero(c.household == h)
        best = sorted(c.quality[mine].tolist(), reverse=True)[:2]
        assert sorted(c.quality[kept[c.household[kept] == h]].tolist(), reverse=True) == best
    assert len(kept) == 4
