"""The warm-started LP, grown column by column, solves what a cold LP solves."""

import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import linprog

from optimiser.warm_lp import WarmLP


@st.composite
def packing_lps(draw: st.DrawFn) -> tuple[sparse.csc_matrix, np.ndarray, np.ndarray, list[int]]:
    """A random packing LP (0/1 rows and limits, so x <= 1) and its rounds' column counts."""
    rows = draw(st.integers(1, 8))
    columns = draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = (rng.random((rows, columns)) < 0.4).astype(float)
    a[rng.integers(rows, size=columns), np.arange(columns)] = 1.0  # every column in a row
    b = rng.integers(0, 2, size=rows).astype(float)  # so x <= 1, as one target per case
    gain = rng.integers(-3, 20, size=columns)
    cuts = sorted(draw(st.lists(st.integers(0, columns), max_size=4)))
    return sparse.csc_matrix(a), b, gain, [*cuts, columns]


@settings(max_examples=80, deadline=None)
@given(packing_lps())
def test_each_round_matches_a_cold_lp_over_the_same_columns(
    lp: tuple[sparse.csc_matrix, np.ndarray, np.ndarray, list[int]],
) -> None:
    a, b, gain, cuts = lp
    model = WarmLP(a, b, gain)
    added = 0
    for cut in cuts:
        model.add(np.arange(added, cut))
        added = cut
        solved = model.solve(time.monotonic() + 30)
        assert solved is not None
        duals, value, chosen = solved
        expected = 0.0
        if added:
            expected = -linprog(-gain[:added], A_ub=a[:, :added], b_ub=b, bounds=(0, None)).fun
        assert abs(value - expected) <= 1e-6
        reduced = gain[:added] - a[:, :added].T @ duals
        assert abs(duals @ b + np.maximum(reduced, 0).sum() - value) <= 1e-6, (
            "the row duals and the columns' bounds of one prove the value (strong duality)"
        )
        if chosen is not None:
            used = a[:, chosen].sum(axis=1).A1
            assert np.all(used <= b + 1e-9), "the whole solution is feasible"
            assert abs(gain[chosen].sum() - value) <= 1e-6


@settings(max_examples=60, deadline=None)
@given(packing_lps(), st.integers(0, 2**32 - 1))
def test_a_held_row_and_new_gains_match_a_cold_lp(
    lp: tuple[sparse.csc_matrix, np.ndarray, np.ndarray, list[int]], seed: int
) -> None:
    a, b, gain, cuts = lp
    model = WarmLP(a, b, gain)
    model.add(np.arange(cuts[0]))
    assert model.solve(time.monotonic() + 30) is not None
    rng = np.random.default_rng(seed)
    row = -rng.integers(0, 3, size=a.shape[1]).astype(float)
    quality = rng.integers(-3, 20, size=a.shape[1])
    model.hold(row, -1.0)
    model.reprice(quality)
    model.add(np.arange(cuts[0], a.shape[1]))
    solved = model.solve(time.monotonic() + 30)
    held = sparse.vstack([a, row.reshape(1, -1)])
    cold = linprog(-quality, A_ub=held, b_ub=np.append(b, -1.0), bounds=(0, None))
    if cold.status == 2:  # the held row cannot be met
        assert solved is None
        return
    assert solved is not None
    duals, value, _ = solved
    assert abs(value + cold.fun) <= 1e-6
    reduced = quality - held.T @ duals
    assert abs(duals @ np.append(b, -1.0) + np.maximum(reduced, 0).sum() - value) <= 1e-6, (
        "the duals prove the value (strong duality, columns boxed by one)"
    )


def test_a_model_that_has_run_longer_than_the_time_left_still_solves() -> None:
    """HiGHS counts its time limit from the model's first solve: the limit given must be
    the seconds left on top of the time already run, or a long-lived model stops at once.
    So the limit set for the second solve must cover the first solve's run time as well as
    the seconds that were left (at least those still left once it returns). Without that,
    the limit would be only the seconds left, short of it by the first solve's run time.
    The check compares the solver's own figures, not how long anything took."""
    rng = np.random.default_rng(7)
    households, targets, pairs = 3_000, 600, 30_000
    household = rng.integers(households, size=pairs)
    target = rng.integers(targets, size=pairs)
    rows = np.concatenate([household, households + target])
    a = sparse.csc_matrix(
        (np.ones(2 * pairs), (rows, np.tile(np.arange(pairs), 2))),
        shape=(households + targets, pairs),
    )
    b = np.concatenate([np.ones(households), rng.integers(1, 4, size=targets)]).astype(float)
    gain = rng.integers(1, 100, size=pairs)
    gain[-1] = 1_000
    model = WarmLP(a, b, gain)
    model.add(np.arange(pairs - 1))
    assert model.solve(time.monotonic() + 60) is not None
    ran = model._model.getRunTime()
    model.add(np.array([pairs - 1]))
    deadline = time.monotonic() + 60
    assert model.solve(deadline) is not None
    still_left = deadline - time.monotonic()
    _, limit = model._model.getOptionValue("time_limit")
    assert ran > 0
    assert limit >= ran + still_left
