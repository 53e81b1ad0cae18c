"""The priced batch policy and its bid prices: sound, deterministic, blind to the future,
and better than first come first served where keeping a unit back is plainly right."""

from dataclasses import replace
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimiser.priority import PRIORITY_SCALE, priority_points
from optimiser.problem import Member
from simulation import engine
from simulation.arrivals import Arrival, draw_arrivals
from simulation.bid_prices import unit_prices
from simulation.calibration import MEAN_STAY_DAYS
from simulation.checker import check_history
from simulation.engine import run
from simulation.fits import Fits
from simulation.history import History
from simulation.policies import Batch, FirstComeFirstServed, HoldBack, PricedBatch, policy_named
from simulation.service import HOURS, life
from simulation.world import World
from tests.simulation.worlds import arrival, household, small_worlds, unit, world

WHEELCHAIR = frozenset({"wheelchair", "step_free"})
ORDINARY = household("ordinary")
WHEELCHAIR_USER = household(
    "wu", members=(Member(40, "female", frozenset({"wheelchair"})),), risk_level="high"
)


def weighted(w: World, history: History) -> float:
    arrivals = {a.household.id: a for a in history.arrivals}
    return sum(
        priority_points(arrivals[s.household_id].household, w.weights) for s in history.stays
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_worlds(), st.integers(1, 10_000), st.sampled_from((24, 8)))
def test_priced_histories_are_sound_and_the_same_for_a_seed(
    w: World, seed: int, every_hours: int
) -> None:
    policy = PricedBatch(every_hours=every_hours, price_every_hours=2 * HOURS)
    history = run(w, policy, seed, 40)
    assert check_history(w, history) == []
    assert run(w, PricedBatch(every_hours=every_hours, price_every_hours=2 * HOURS), seed, 40) == (
        history
    )


def test_a_unit_only_some_fit_and_more_want_is_priced_at_their_priority() -> None:
    """Wheelchair users want the one wheelchair unit more often than it turns over: its
    price is a wheelchair user's priority; the ordinary unit, wanted by ordinary
    households only, is priced at theirs; a unit nobody fits costs nothing."""
    w = world(
        (
            unit("wheelchair", access_features=WHEELCHAIR),
            unit("ordinary"),
            unit("far", authority_code="Z"),
        ),
        (ORDINARY, WHEELCHAIR_USER),
    )
    referred = [(h * HOURS, h % 2) for h in range(20)]
    prices = unit_prices(Fits(w), referred, 20 * HOURS, 90)
    assert prices.tolist() == [
        priority_points(WHEELCHAIR_USER, w.weights),
        priority_points(ORDINARY, w.weights),
        0.0,
    ]
    assert unit_prices(Fits(w), referred, 20 * HOURS, 0.5).tolist() == [0.0, 0.0, 0.0]


def _weekly(w: World, weeks: int) -> tuple[Arrival, ...]:
    """Each week an ordinary household on its first day (patient), then a wheelchair
    user on its third (who withdraws after three days); stays are a week."""
    out = []
    for week in range(weeks):
        day = 7 * week
        for template, at, patience in ((0, day, 30), (1, day + 2, 3)):
            a = arrival(w.mix[template], at * HOURS + 1, (at + patience) * HOURS, template=template)
            out.append(replace(a, household=replace(a.household, id=f"a{week}-{template}")))
    return tuple(out)


def _free_at_start(w: World) -> int:
    """A seed under which every unit of ``w`` is free on the first day."""
    return next(
        seed
        for seed in range(1, 1000)
        if all(life(u, seed, 60, 0.0).free_from == 0 for u in w.units)
    )


def test_keeping_the_wheelchair_unit_back_beats_first_come_first_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One wheelchair unit. First come first served gives it every week to the ordinary
    household referred first, and the wheelchair user referred two days later withdraws
    unplaced. Learning from the first week's referrals, the priced policy keeps it for
    the wheelchair user, whose priority (high risk) is the higher."""
    w = world((unit(access_features=WHEELCHAIR),), (ORDINARY, WHEELCHAIR_USER))
    weeks = 8
    monkeypatch.setattr(engine, "draw_arrivals", lambda w, seed, days: _weekly(w, weeks))
    seed = _free_at_start(w)
    fcfs = run(w, FirstComeFirstServed(), seed, 7 * weeks)
    priced = run(w, PricedBatch(), seed, 7 * weeks)
    assert check_history(w, fcfs) == [] and check_history(w, priced) == []
    assert {s.household_id[-1] for s in fcfs.stays} == {"0"}
    wheelchair_placed = [s for s in priced.stays if s.household_id.endswith("-1")]
    assert len(wheelchair_placed) >= weeks - 2
    assert weighted(w, priced) > weighted(w, fcfs) + (weeks - 2) * PRIORITY_SCALE


def test_decisions_never_depend_on_referrals_still_to_come(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two years alike up to day 30 and different after it (high-risk wheelchair users in
    place of whoever came; stays of a week, so that units turn over): every placement
    before day 30 is the same in both, and later ones are not."""
    w = world(
        (unit("a", access_features=WHEELCHAIR), unit("b"), unit("c", bedrooms=3)),
        (
            ORDINARY,
            WHEELCHAIR_USER,
            household(
                "family", members=(Member(30, "female"), Member(5, "male"), Member(3, "female"))
            ),
        ),
        per_day=1.5,
        patience_days=6.0,
    )
    days, cut = 80, 30 * HOURS
    week = MappingProxyType(dict.fromkeys(MEAN_STAY_DAYS, 7))
    real = tuple(replace(a, stay_days=week) for a in draw_arrivals(w, 3, days))
    other = tuple(
        a
        if a.at < cut
        else replace(a, template=1, household=replace(WHEELCHAIR_USER, id=a.household.id))
        for a in real
    )
    histories = []
    for arrivals in (real, other):
        monkeypatch.setattr(engine, "draw_arrivals", lambda w, seed, d, a=arrivals: a)
        histories.append(run(w, PricedBatch(price_every_hours=3 * HOURS), 3, days))
    before = [[s for s in h.stays if s.start < cut] for h in histories]
    assert before[0] and before[0] == before[1]
    assert histories[0].stays != histories[1].stays
    assert all(check_history(w, h) == [] for h in histories)


def test_batch_is_priced_unless_a_hold_back_is_asked_for() -> None:
    assert policy_named("batch", 12) == PricedBatch(every_hours=12)
    assert policy_named("batch-unpriced") == Batch(name="batch-unpriced")
    assert policy_named("batch", 24, HoldBack()) == Batch(hold_back=HoldBack())
    with pytest.raises(ValueError, match="batch-unpriced"):
        policy_named("priced")
