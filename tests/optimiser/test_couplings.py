from types import MappingProxyType

import numpy as np

from optimiser.candidates import build_candidates
from optimiser.couplings import Account, is_feasible, make_feasible
from optimiser.problem import Problem, Protocol
from tests.optimiser.builders import AS_OF, household, unit


def capped_problem() -> Problem:
    cap = Protocol(
        id="p", members=frozenset({"A", "B"}), balance_cap=1, balances=MappingProxyType({})
    )
    fleeing = tuple(
        household(id=f"h{i}", avoid_authorities=frozenset({"A"}), days_waiting=i) for i in range(3)
    )
    units = tuple(unit(id=f"b{i}", authority_code="B") for i in range(3))
    return Problem(households=fleeing, units=units, protocols=(cap,), as_of=AS_OF)


def test_account_refuses_a_send_past_the_cap() -> None:
    c = build_candidates(capped_problem())
    account = Account(c)
    assert account.allows(0)
    account.add(0)
    assert not account.allows(1), "A has used its room"
    assert not account.allows(0), "a case takes one target"


def test_make_feasible_drops_the_least_valuable_sends() -> None:
    c = build_candidates(capped_problem())
    value = c.value(c.dominance_scale)
    everyone = np.arange(len(c.household))
    assert not is_feasible(c, everyone.tolist())
    kept = make_feasible(c, everyone, value)
    assert is_feasible(c, kept)
    assert [int(c.household[p]) for p in kept] == [2]
