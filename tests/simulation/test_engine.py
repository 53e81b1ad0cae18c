"""The event loop: deterministic for a seed, every history sound, and a policy that
tries to break the rules is stopped."""

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimiser.problem import Member, Protocol
from simulation.arrivals import Arrival
from simulation.checker import check_history
from simulation.engine import Decision, Moment, run
from simulation.policies import Batch, FirstComeFirstServed, HoldBack, PricedBatch
from simulation.world import World
from tests.simulation.worlds import OPTION, arrival, household, small_worlds, unit, world

POLICIES = (
    FirstComeFirstServed(),
    Batch(every_hours=24),
    Batch(every_hours=8, hold_back=HoldBack(horizon_days=10)),
    Batch(every_hours=24, perpetrator_moves=True, name="batch+perp"),
    PricedBatch(every_hours=12, price_every_hours=48),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_worlds(), st.integers(1, 10_000), st.sampled_from(POLICIES))
def test_every_history_is_sound_and_the_same_for_a_seed(
    w: World, seed: int, policy: object
) -> None:
    assert isinstance(policy, FirstComeFirstServed | Batch | PricedBatch)
    history = run(w, policy, seed, 40)
    assert check_history(w, history) == []
    assert run(w, policy, seed, 40) == history


def test_another_seed_is_another_year() -> None:
    w = world((unit(),), (household(),), per_day=2.0)
    first = run(w, FirstComeFirstServed(), 1, 30)
    assert run(w, FirstComeFirstServed(), 2, 30).arrivals != first.arrivals


def moment(w: World, arrivals: tuple[Arrival, ...], rows: tuple[int, ...]) -> Moment:
    free = np.array(rows, dtype=np.int64)
    return Moment(
        48,
        w,
        arrivals,
        tuple(free for _ in arrivals),
        tuple(np.zeros(0, dtype=np.int64) for _ in arrivals),
        arrivals,
    )


def test_first_come_first_served_gives_the_first_referral_its_best_option() -> None:
    w = world(
        (unit("far", authority_code="B"), unit("home")),
        (household(), household("h2", risk_level="high")),
        protocols=(Protocol(id="p", members=frozenset({"A", "B"})),),
    )
    first, second = arrival(w.mix[0], 0, 500), arrival(w.mix[1], 10, 500, template=1)
    second = replace(second, household=replace(second.household, id="a2"))
    chosen = FirstComeFirstServed().choose(moment(w, (first, second), (0, 1)))
    # the first referral takes the unit in its own authority; the second what is left
    assert chosen == [Decision("h1", unit_row=1), Decision("a2", unit_row=0)]


def test_batch_gives_the_one_unit_to_the_higher_priority() -> None:
    w = world((unit(),), (household(), household("h2", risk_level="high")))
    first, second = arrival(w.mix[0], 0, 500), arrival(w.mix[1], 10, 500, template=1)
    assert Batch().choose(moment(w, (first, second), (0,))) == [Decision("h2", unit_row=0)]


def test_hold_back_keeps_a_wheelchair_unit_for_the_wheelchair_users_expected() -> None:
    wheelchair = frozenset({"wheelchair", "step_free"})
    w = world(
        (unit(access_features=wheelchair),),
        (household(), household("wu", members=(Member(40, "female", frozenset({"wheelchair"})),))),
    )
    waiting = arrival(w.mix[0], 40, 500)
    past = tuple(
        replace(arrival(w.mix[1], h, h + 1, template=1), household=replace(w.mix[1], id=f"w{h}"))
        for h in (1, 2, 3)
    )
    m = replace(moment(w, (waiting,), (0,)), arrived=(*past, waiting))
    assert Batch().choose(m) == [Decision("h1", unit_row=0)]
    assert Batch(hold_back=HoldBack(horizon_days=7)).choose(m) == []


def test_batch_with_perpetrator_moves_moves_perpetrators() -> None:
    w = world(
        (unit(accepts_nrpf=False),),
        (household(nrpf=True, perpetrator_move_possible=True),),
        options=(OPTION,),
        per_day=1.0,
    )
    moved = run(w, Batch(perpetrator_moves=True, name="batch+perp"), 1, 30)
    assert moved.stays and all(s.option_id == "o1" for s in moved.stays)
    assert check_history(w, moved) == []
    assert run(w, Batch(), 1, 30).stays == ()


class _Watcher:
    """Places nobody; keeps who it was asked about."""

    name = "watcher"
    every_hours = None

    def __init__(self, sees_options: bool) -> None:
        self.sees_options = sees_options
        self.asked: set[str] = set()

    def choose(self, moment: Moment) -> Sequence[Decision]:
        self.asked |= {a.household.id for a in moment.waiting}
        return []


def test_a_policy_blind_to_options_is_not_asked_about_whom_only_an_option_fits() -> None:
    """The NRPF household fits only the rehousing option: a policy that sees options is
    asked about it, one that does not (first come first served) never is."""
    w = world(
        (unit(accepts_nrpf=False),),
        (household(nrpf=True, perpetrator_move_possible=True),),
        options=(OPTION,),
        per_day=1.0,
    )
    seeing, blind = _Watcher(sees_options=True), _Watcher(sees_options=False)
    run(w, seeing, 1, 30)
    run(w, blind, 1, 30)
    assert seeing.asked and blind.asked == set()


class _Rogue:
    """Gives the first unit of the world to whoever waits, fit or not, free or not."""

    name = "rogue"
    every_hours = None
    sees_options = False

    def choose(self, moment: Moment) -> Sequence[Decision]:
        return [Decision(a.household.id, unit_row=0) for a in moment.waiting]


def test_a_policy_cannot_give_a_unit_that_is_taken() -> None:
    kind = "other_emergency_accommodation"
    w = world((unit(scheme_type=kind), unit("u2", scheme_type=kind)), (household(),), per_day=3)
    with pytest.raises(ValueError, match="not free"):
        run(w, _Rogue(), 1, 120)


def test_days_must_be_positive() -> None:
    w = world((unit(),), (household(),))
    with pytest.raises(ValueError, match="days"):
        run(w, FirstComeFirstServed(), 1, 0)
