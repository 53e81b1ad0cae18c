"""HiGHS, lexicographic: the default engine."""

import time
from types import MappingProxyType

from optimiser.candidates import build_candidates
from optimiser.couplings import is_feasible
from optimiser.mip import coupling_matrix, solve_lexicographic
from optimiser.problem import Problem, Protocol
from tests.optimiser.builders import AS_OF, household, unit


def coupled() -> Problem:
    cap = Protocol(
        id="p", members=frozenset({"A", "B"}), balance_cap=1, balances=MappingProxyType({"B": 1})
    )
    people = (
        *(
            household(
                id=f"a{i}",
                avoid_authorities=frozenset({"A"}),
                perpetrator_ref="x",
                risk_level="high" if i else "standard",
            )
            for i in range(3)
        ),
        household(id="b", authority_code="B", avoid_authorities=frozenset({"B"})),
    )
    units = (
        unit(id="b1", authority_code="B"),
        unit(id="b2", authority_code="B"),
        unit(id="b3", authority_code="B", scheme_id="s2"),
        unit(id="a1", authority_code="A", scheme_id="s3"),
    )
    return Problem(households=people, units=units, protocols=(cap,), as_of=AS_OF)


def test_matrix_has_a_row_per_case_target_set_and_cap() -> None:
    c = build_candidates(coupled())
    matrix, limits = coupling_matrix(c)
    assert matrix.shape == (
        len(c.priority) + len(c.targets) + len(c.at_most_one) + len(c.caps),
        len(c.household),
    )
    assert len(limits) == matrix.shape[0]


def test_lexicographic_phases_prove_the_optimum() -> None:
    c = build_candidates(coupled())
    scale = c.dominance_scale
    outcome = solve_lexicographic(c, scale, time.monotonic() + 10)
    assert outcome is not None and outcome.proven
    assert is_feasible(c, outcome.chosen)
    assert c.value(scale)[outcome.chosen].sum() == outcome.bound
    placed = {int(c.household[p]) for p in outcome.chosen}
    assert placed == {1, 2, 3}, "high-risk cases first; B's case lets A send a second"
