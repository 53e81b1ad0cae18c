"""What a free unit is worth to the households expected to want it: bid prices.

A unit given now is gone for a whole stay, so giving it to someone who had other units
they may have, or to a low priority when higher ones keep asking for it, costs the
referrals to come. Its price is that cost, learned from the past only: the referrals of
the last ``learning_days`` days, as a rate per household of the mix, against each unit's
throughput (one household per mean stay of its kind). The steady-state (fluid) LP

    maximise  sum priority[t] * x[t, u]   over pairs (t, u) the rules allow
    such that sum_u x[t, u] <= rate[t]     (no more placed than arrive)
              sum_t x[t, u] <= 1 / stay[u] (no more than a unit turns over)

places the most priority a day; the dual of a unit's row is what one more placement in
it would be worth, in priority points: its price. A unit only a few households fit, and
wanted by more of them than it can take (a wheelchair unit, a large house, one taking
NRPF households), is dear; one nobody else wants is free. This generalises holding a
wheelchair unit back: its price keeps it for the households only it fits.
"""

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from optimiser.priority import priority_points
from simulation.calibration import MEAN_STAY_DAYS
from simulation.fits import Fits
from simulation.service import HOURS

HIGHS_OPTIMAL = 0


def unit_prices(
    fits: Fits, referred: Sequence[tuple[int, int]], hour: int, learning_days: float
) -> np.ndarray:
    """Per unit row of the world, its price in priority points (the optimiser's,
    hundredths), from the referrals ``(hour, household of the mix)`` before ``hour``
    of the last ``learning_days`` days; all zero before a day has passed (nothing
    learned yet)."""
    world = fits.world
    since = max(0, hour - int(learning_days * HOURS))
    elapsed_days = (hour - since) / HOURS
    prices = np.zeros(len(world.units))
    recent = [template for at, template in referred if since <= at < hour]
    if elapsed_days < 1 or not recent:
        return prices
    templates, counts = np.unique(np.array(recent, dtype=np.int64), return_counts=True)
    rows, cols = [], []
    for n, template in enumerate(templates.tolist()):
        fit = np.flatnonzero(fits.units(template))
        rows.append(np.full(len(fit), n))
        cols.append(fit)
    pair_t, pair_u = np.concatenate(rows), np.concatenate(cols)
    if len(pair_t) == 0:
        return prices
    stays = np.array([MEAN_STAY_DAYS[u.scheme_type] for u in world.units])
    order = np.lexsort((pair_t, pair_u))
    pair_t, pair_u = pair_t[order], pair_u[order]
    starts = np.flatnonzero(np.r_[True, pair_u[1:] != pair_u[:-1]])
    units = pair_u[starts]
    wanted_by = np.split(pair_t, starts[1:])
    # units the same households want, of one kind, are one class to the LP (its price
    # is theirs): a fifth of the columns at national scale
    class_of: dict[bytes, int] = {}
    unit_class = np.array(
        [
            class_of.setdefault(np.append(ts, -stays[u]).tobytes(), len(class_of))
            for u, ts in zip(units.tolist(), wanted_by, strict=True)
        ],
        dtype=np.int64,
    )
    first = np.unique(unit_class, return_index=True)[1]
    class_t = np.concatenate([wanted_by[i] for i in first])
    class_c = np.repeat(np.arange(len(first)), [len(wanted_by[i]) for i in first])
    turnover = np.bincount(unit_class, weights=1.0 / stays[units], minlength=len(first))
    gain = np.array([priority_points(world.mix[t], world.weights) for t in templates.tolist()])
    pairs = np.arange(len(class_t))
    matrix = sparse.csr_matrix(
        (
            np.ones(2 * len(pairs)),
            (np.concatenate([class_t, len(templates) + class_c]), np.concatenate([pairs, pairs])),
        ),
        shape=(len(templates) + len(first), len(pairs)),
    )
    limit = np.concatenate([counts / elapsed_days, turnover])
    result = linprog(
        -gain[class_t].astype(float), A_ub=matrix, b_ub=limit, bounds=(0, None), method="highs"
    )
    if result.status != HIGHS_OPTIMAL:
        raise RuntimeError(f"the bid-price LP did not solve: {result.message}")
    prices[units] = -np.asarray(result.ineqlin.marginals)[len(templates) :][unit_class]
    return prices
