"""The hindsight optimum is what brute force finds, bounds every policy, and is itself
bounded by the blocked relaxation, which the capacity relaxation bounds in turn; adding a
unit never lowers it. The capacity relaxation solved through hubs has its pairs' optimum."""

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import linprog

from fixtures.simulated import world_for
from optimiser.priority import priority_points
from simulation import hindsight
from simulation.arrivals import Arrival, draw_arrivals
from simulation.engine import run
from simulation.fits import Fits
from simulation.hindsight import (
    CapacityPairs,
    blocked_bound,
    capacity_bound,
    capacity_pairs,
    exact_optimum,
    reported_bound,
    window,
)
from simulation.metrics import measure
from simulation.policies import Batch, FirstComeFirstServed, HoldBack
from simulation.service import HOURS, Life, life
from simulation.whatif import AddUnits
from simulation.world import World
from tests.simulation.worlds import OPTION, arrival, household, small_worlds, unit, world

DAYS = 12


def lives_of(w: World, seed: int, days: int) -> dict[str, Life]:
    return {u.id: life(u, seed, days, w.rates.closures_per_unit_year) for u in w.units}


def brute_force(
    w: World, arrivals: tuple[Arrival, ...], lives: dict[str, Life], days: int
) -> float:
    """Every way to give each household nothing or one (unit or option, day), per unit:
    the best total priority of those that keep every unit to one household a day."""
    fits = Fits(w)
    choices = []
    for a in arrivals:
        span = window(a, days)
        mine: list[tuple[str, int, int] | None] = [None]
        if span is not None:
            for row, u in enumerate(w.units):
                lf = lives[u.id]
                if fits.units(a.template)[row]:
                    for d in range(max(span[0], lf.free_from // HOURS), span[1] + 1):
                        if lf.open_at(d * HOURS):
                            mine.append((u.id, d, a.stay_days[u.scheme_type]))
            for row, o in enumerate(w.rehousing_options):
                if fits.options(a.template)[row]:
                    mine += [(o.id, d, a.tenancy_days) for d in range(span[0], span[1] + 1)]
        choices.append(mine)
    best = 0
    for pick in itertools.product(*choices):
        used: set[tuple[str, int]] = set()
        ok = True
        for c in pick:
            if c is None:
                continue
            place, d, stay = c
            for e in range(d, min(d + stay, days)):
                if (place, e) in used:
                    ok = False
                used.add((place, e))
        if ok:
            best = max(
                best,
                sum(
                    priority_points(a.household, w.weights)
                    for a, c in zip(arrivals, pick, strict=True)
                    if c
                ),
            )
    return best / 100


tiny_arrivals = st.lists(
    st.tuples(
        st.integers(0, 6 * HOURS),
        st.integers(1, 5 * HOURS),
        st.sampled_from((1, 2, 3)),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_worlds(), tiny_arrivals, st.integers(1, 50))
def test_the_exact_model_finds_what_brute_force_finds(
    w: World, specs: list[tuple[int, int, int, int]], seed: int
) -> None:
    days = 8
    arrivals = tuple(
        replace(
            arrival(w.mix[t % len(w.mix)], at, at + wait, stay, template=t % len(w.mix)),
            household=replace(w.mix[t % len(w.mix)], id=f"a{n}"),
        )
        for n, (at, wait, stay, t) in enumerate(specs)
    )
    lives = lives_of(w, seed, days)
    exact = exact_optimum(w, arrivals, lives, days)
    assert exact.exact
    assert exact.weighted_placed == brute_force(w, arrivals, lives, days)
    capacity = capacity_bound(w, arrivals, lives, days).weighted_placed
    for block in (1, 2, 3, 7):
        blocked = blocked_bound(w, arrivals, lives, days, block_days=block).weighted_placed
        assert exact.weighted_placed - 1e-6 <= blocked <= capacity + 1e-6, block


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_worlds(), st.integers(1, 1000))
def test_bound_at_least_exact_at_least_every_policy(w: World, seed: int) -> None:
    arrivals = draw_arrivals(w, seed, DAYS)
    lives = lives_of(w, seed, DAYS)
    exact = exact_optimum(w, arrivals, lives, DAYS)
    bound = capacity_bound(w, arrivals, lives, DAYS)
    relaxed = exact_optimum(w, arrivals, lives, DAYS, relax=True)
    assert bound.weighted_placed >= exact.weighted_placed - 1e-6
    assert relaxed.weighted_placed >= exact.weighted_placed - 1e-6
    blocked = blocked_bound(w, arrivals, lives, DAYS, block_days=5)
    assert exact.weighted_placed - 1e-6 <= blocked.weighted_placed
    assert blocked.weighted_placed <= bound.weighted_placed + 1e-6
    for policy in (
        FirstComeFirstServed(),
        Batch(every_hours=12),
        Batch(every_hours=24, hold_back=HoldBack(horizon_days=7)),
        Batch(every_hours=6, perpetrator_moves=True, name="batch+perp"),
    ):
        achieved = measure(w, run(w, policy, seed, DAYS)).weighted_placed
        assert achieved <= exact.weighted_placed + 1e-6, policy.name


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_worlds(), st.integers(1, 1000), st.booleans(), st.booleans())
def test_adding_a_unit_never_lowers_the_hindsight_optimum(
    w: World, seed: int, nrpf: bool, wheelchair: bool
) -> None:
    like = unit(
        "added",
        accepts_nrpf=nrpf,
        access_features=frozenset({"wheelchair"}) if wheelchair else frozenset(),
    )
    more = AddUnits(1, like).apply(w)
    arrivals = draw_arrivals(w, seed, DAYS)
    assert draw_arrivals(more, seed, DAYS) == arrivals
    before = exact_optimum(w, arrivals, lives_of(w, seed, DAYS), DAYS)
    after = exact_optimum(more, arrivals, lives_of(more, seed, DAYS), DAYS)
    assert after.weighted_placed >= before.weighted_placed


def test_a_household_that_fits_nowhere_adds_nothing() -> None:
    w = world((unit(accepts_nrpf=False),), (household(nrpf=True),))
    arrivals = (arrival(w.mix[0], 0, 48),)
    lives = {"u1": Life(0, ())}
    assert exact_optimum(w, arrivals, lives, 5).weighted_placed == 0
    assert capacity_bound(w, arrivals, lives, 5).weighted_placed == 0


def test_one_unit_takes_the_higher_priority_of_two_at_once() -> None:
    w = world((unit(),), (household(risk_level="high"), household("h2")))
    two = (arrival(w.mix[0], 0, 24, 7, 0), arrival(w.mix[1], 0, 24, 7, 1))
    arrivals = tuple(
        replace(a, household=replace(a.household, id=f"a{n}")) for n, a in enumerate(two)
    )
    result = exact_optimum(w, arrivals, {"u1": Life(0, ())}, 10)
    assert result.exact
    assert result.weighted_placed == priority_points(w.mix[0], w.weights) / 100


def test_blocks_see_a_unit_taken_for_one_wave_that_the_capacity_bound_does_not() -> None:
    """One unit, two households arriving together, each staying the whole run: only one
    can be placed. The capacity bound lets each take half the unit-days left after its
    last day; blocks know a move-in on day 0 or 1 takes the unit for the whole run."""
    w = world((unit(),), (household(),))
    two = (arrival(w.mix[0], 0, 48, 28), arrival(w.mix[0], 0, 48, 28))
    arrivals = tuple(
        replace(a, household=replace(a.household, id=f"a{n}")) for n, a in enumerate(two)
    )
    lives = {"u1": Life(0, ())}
    one = priority_points(w.mix[0], w.weights) / 100
    assert exact_optimum(w, arrivals, lives, 28).weighted_placed == one
    assert capacity_bound(w, arrivals, lives, 28).weighted_placed > one
    assert blocked_bound(w, arrivals, lives, 28, block_days=7).weighted_placed == one


def test_a_closed_unit_admits_no_one_in_the_blocked_bound() -> None:
    w = world((unit(),), (household(),))
    arrivals = (arrival(w.mix[0], 0, 48),)
    closed = {"u1": Life(0, ((0, 5 * HOURS),))}
    assert blocked_bound(w, arrivals, closed, 10, block_days=1).weighted_placed == 0
    assert blocked_bound(w, arrivals, {"u1": Life(0, ())}, 10).weighted_placed > 0


def test_a_run_reports_the_exact_optimum_when_small_else_the_tightest_bound_that_fits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = world((unit(), unit("u2")), (household(), household("h2", risk_level="high")))
    arrivals = draw_arrivals(w, 3, 30)
    lives = lives_of(w, 3, 30)
    exact = exact_optimum(w, arrivals, lives, 30)
    assert reported_bound(w, arrivals, lives, 30) == exact
    monkeypatch.setattr(hindsight, "EXACT_CELLS", 0)
    reported = reported_bound(w, arrivals, lives, 30)
    assert reported == blocked_bound(w, arrivals, lives, 30)
    assert reported.weighted_placed >= exact.weighted_placed - 1e-6
    monkeypatch.setattr(hindsight, "BLOCKED_CELLS", 0)
    assert reported_bound(w, arrivals, lives, 30) == capacity_bound(w, arrivals, lives, 30)


def pairs_optimum(pairs: CapacityPairs) -> float:
    """The capacity LP as it was first written, a variable per (group, target) pair:
    the reference the hub form :func:`capacity_bound` solves must equal."""
    n = len(pairs.row)
    if n == 0:
        return 0.0
    once = sparse.csr_matrix((np.ones(n), (pairs.row, np.arange(n))), shape=(len(pairs.count), n))
    room = sparse.csr_matrix(
        (pairs.weight, (pairs.col, np.arange(n))), shape=(len(pairs.capacity), n)
    )
    result = linprog(
        -pairs.gain[pairs.row],
        A_ub=sparse.vstack([once, room]),
        b_ub=np.concatenate([pairs.count, pairs.capacity]),
        bounds=(0, None),
        method="highs-ds",
    )
    assert result.status == 0, result.message
    return float(-result.fun) / 100


def assert_hub_form_equals_pairs(
    w: World, arrivals: tuple[Arrival, ...], lives: dict[str, Life], days: int, perp: bool
) -> None:
    pairs = capacity_pairs(w, arrivals, lives, days, perpetrator_moves=perp)
    hub = capacity_bound(w, arrivals, lives, days, perpetrator_moves=perp)
    assert hub.variables == len(pairs.row)
    assert hub.weighted_placed == pytest.approx(pairs_optimum(pairs), rel=1e-6, abs=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_worlds(), st.integers(1, 1000), st.sampled_from((5, 12, 40)), st.booleans())
def test_the_hub_form_has_the_pairs_optimum_on_small_worlds(
    w: World, seed: int, days: int, perp: bool
) -> None:
    arrivals = draw_arrivals(w, seed, days)
    assert_hub_form_equals_pairs(w, arrivals, lives_of(w, seed, days), days, perp)


def varied_world(seed: int) -> World:
    """A dozen units of every mix of kind, NRPF and access, households of every
    need: many groups fitting the same sets of classes, so hubs are shared."""
    units = tuple(
        unit(
            f"u{n}",
            accepts_nrpf=n % 2 == 0,
            access_features=frozenset({"wheelchair", "step_free"}) if n % 3 == 0 else frozenset(),
            scheme_type=("refuge", "other_emergency_accommodation", "dispersed_accommodation")[
                (n + seed) % 3
            ],
            bedrooms=1 + (n * seed) % 3,
            bed_spaces=2 + (n * seed) % 4,
        )
        for n in range(12)
    )
    mix = tuple(
        household(
            f"t{n}",
            nrpf=n % 3 == 0,
            risk_level=("standard", "medium", "high")[n % 3],
            perpetrator_move_possible=n % 2 == 1,
        )
        for n in range(6)
    )
    return world(units, mix, per_day=2.0, patience_days=6.0, closures=10.0, options=(OPTION,))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_hub_form_has_the_pairs_optimum_on_busier_worlds(seed: int) -> None:
    w = varied_world(seed)
    arrivals = draw_arrivals(w, seed, 60)
    lives = lives_of(w, seed, 60)
    for perp in (True, False):
        assert_hub_form_equals_pairs(w, arrivals, lives, 60, perp)
    assert capacity_bound(w, arrivals, lives, 60).weighted_placed > 0


def test_the_hub_form_has_the_pairs_optimum_on_the_demo_registry() -> None:
    w, _ = world_for("demo")
    arrivals = draw_arrivals(w, 1, 90)
    assert_hub_form_equals_pairs(w, arrivals, lives_of(w, 1, 90), 90, True)
