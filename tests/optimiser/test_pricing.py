"""Pricing solves on a restricted set of pairs and still proves the full problem's optimum."""

import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import linprog

from optimiser import allocate, allocation, pricing
from optimiser.bench_instances import instance
from optimiser.candidates import Candidates, build_candidates
from optimiser.couplings import is_feasible
from optimiser.flow import solve_flow
from optimiser.greedy import greedy
from optimiser.mip import coupling_matrix, solve_lexicographic
from optimiser.pricing import solve_priced
from optimiser.problem import Problem
from tests.optimiser import strategies
from tests.optimiser.checker import check_allocation


def test_priced_equals_the_full_model_on_a_regional_instance() -> None:
    problem = instance("regional", seed=2)
    c = build_candidates(problem)
    scale = c.dominance_scale
    value = c.value(scale)
    full = solve_lexicographic(c, scale, time.monotonic() + 60)
    hint = solve_flow(c, scale)
    priced = solve_priced(c, scale, greedy(problem, c), hint, time.monotonic() + 60)
    assert full is not None and full.proven
    assert priced is not None and priced.proven
    assert is_feasible(c, priced.chosen)
    assert value[priced.chosen].sum() == value[full.chosen].sum() == priced.bound


def test_pricing_adds_pairs_beyond_the_start() -> None:
    problem = instance("regional", seed=2)
    c = build_candidates(problem)
    matrix, limits = coupling_matrix(c)
    start = np.zeros(len(c.household), dtype=np.bool_)
    phase = pricing.maximise(
        c,
        matrix.tocsc(),
        limits,
        c.priority[c.household],
        start,
        np.array(greedy(problem, c), dtype=np.int64),
        time.monotonic() + 60,
    )
    assert phase is not None and phase.proven
    assert phase.restricted.sum() > len(greedy(problem, c)), "priced pairs joined the set"
    assert phase.restricted.sum() < len(c.household), "yet far from every pair"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.problems())
def test_priced_allocations_pass_the_checker_and_match_the_full_model(problem: Problem) -> None:
    full = allocate(problem, time_limit_s=10)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(allocation, "PRICED_PAIRS", 0)
        patch.setattr(pricing, "START_PAIRS", 1)
        priced = allocate(problem, time_limit_s=10)
    check_allocation(problem, priced)
    assert priced.status == full.status == "optimal"
    assert priced.objective == full.objective == priced.bound
    c = build_candidates(problem)
    fcfs = c.priority[c.household[greedy(problem, c)]].sum()
    assert priced.weighted_placed * 100 >= fcfs - 1e-6, "never below first come, first served"


def _full_lp(c: Candidates) -> tuple[np.ndarray, float]:
    matrix, limits = coupling_matrix(c)
    result = linprog(
        -c.priority[c.household].astype(float),
        A_ub=matrix,
        b_ub=limits,
        bounds=(0, None),
        method="highs-ipm",
    )
    assert result.status == 0
    return -result.ineqlin.marginals, -float(result.fun)


class Bounded(NamedTuple):
    """A problem's candidates, the coupling rows from ``first_row`` on (integers, as
    pricing charges them), the pairs' gains, the MIP's proven optimum and duals drawn
    for those rows."""

    c: Candidates
    rows: sparse.csr_matrix
    limits: np.ndarray
    gain: np.ndarray
    optimum: int
    guessed: np.ndarray


def _bounded(
    problem: Problem, data: st.DataObject, first_row: Callable[[Candidates], int]
) -> Bounded:
    c = build_candidates(problem)
    assume(len(c.household) > 0)
    matrix, limits = coupling_matrix(c)
    start = first_row(c)
    rows = matrix[start:].tocsr().astype(np.int64)
    gain = c.priority[c.household]
    full = solve_lexicographic(c, c.dominance_scale, time.monotonic() + 30)
    assert full is not None and full.proven
    size = rows.shape[0]
    guessed = np.array(data.draw(st.lists(st.floats(0, 500), min_size=size, max_size=size)))
    return Bounded(
        c,
        rows,
        np.rint(limits[start:]).astype(np.int64),
        gain,
        int(gain[full.chosen].sum()),
        guessed,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.problems(), st.data())
def test_the_lagrangian_bound_holds_for_any_duals_and_meets_the_lp(
    problem: Problem, data: st.DataObject
) -> None:
    """Any non-negative duals on the coupling rows bound the MIP's optimum; the LP's own
    duals give the LP's value (when whole, as a vertex's are here), and the pairs the
    flow returns meet the bound they prove."""
    c, side, side_limits, gain, optimum, guessed = _bounded(
        problem, data, lambda c: len(c.priority) + len(c.targets)
    )
    network = len(c.priority) + len(c.targets)
    bound, pairs = pricing._lagrangian(c, side, side_limits, gain, guessed)
    assert bound >= optimum
    assert len(np.unique(c.household[pairs])) == len(pairs)
    duals, value = _full_lp(c)
    bound, _ = pricing._lagrangian(c, side, side_limits, gain, duals[network:])
    assert bound >= optimum
    if np.allclose(duals, np.rint(duals), atol=1e-6):
        assert bound == int(np.floor(value + 1e-6))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.problems(), st.data())
def test_the_charged_bound_holds_for_any_duals_and_meets_the_lp(
    problem: Problem, data: st.DataObject
) -> None:
    """Duals on every row but one-target-per-case, any non-negative ones, bound the MIP's
    optimum in one pass over the pairs; the full LP's own duals give the LP's value when
    whole; and once the restricted set holds every pair, none enters."""
    c, rest, rest_limits, gain, optimum, guessed = _bounded(
        problem, data, lambda c: len(c.priority)
    )
    n = len(c.priority)
    charged = pricing.Charged.of(rest, gain, guessed)
    assert charged.bound(c.household, n, rest_limits) >= optimum
    everything = np.ones(len(c.household), dtype=np.bool_)
    assert len(charged.entering(c.household, n, everything)) == 0
    nothing = ~everything
    entering = charged.entering(c.household, n, nothing)
    assert np.all(charged.reduced[entering] > 0), "only pairs that gain after their charges"
    assert np.bincount(c.household[entering]).max(initial=0) <= pricing.ENTERING_PAIRS
    duals, value = _full_lp(c)
    charged = pricing.Charged.of(rest, gain, duals[n:])
    assert charged.bound(c.household, n, rest_limits) >= optimum
    if np.allclose(duals, np.rint(duals), atol=1e-6):
        assert charged.bound(c.household, n, rest_limits) == int(np.floor(value + 1e-6))
