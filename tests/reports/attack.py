"""An attacker's view of a published table: what can be worked out about each `[c]`.

Independent of `placement.reports.disclosure` (it shares nothing but the input format):
it knows what was shown, the additive relations, and that every withheld count is at
least 1, and tries three ways a reader would:

- peeling: a relation with one unknown gives it; substitute and repeat;
- all ones: withheld parts of a shown total that sum to their number are all 1;
- bounds: the least and greatest value each withheld cell can take under every
  relation, by linear programming (HiGHS via SciPy); equal bounds recover it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
from scipy.optimize import linprog

Relation = tuple[Hashable, Sequence[Hashable]]
"""(total, parts)."""
Shown = int | tuple[int, int] | None
"""A shown count, a range it is known to lie in (a rounded figure), or withheld."""


def recovered(
    shown: Mapping[Hashable, Shown],
    relations: Sequence[Relation],
    rounded: bool = False,
) -> dict[Hashable, float]:
    """Withheld cells (value None) whose exact value follows from what is shown.

    With `rounded`, shown values are known only to within the rounding (-5 to +4)."""
    out: dict[Hashable, float] = {}
    if not rounded:
        out.update(_peel(shown, relations))
    for key, (low, high) in bounds(shown, relations, rounded).items():
        if shown[key] is None and high - low < 1 - 1e-6:
            out.setdefault(key, low)
    return out


def _peel(shown: Mapping[Hashable, Shown], relations: Sequence[Relation]) -> dict[Hashable, float]:
    known: dict[Hashable, float] = {k: v for k, v in shown.items() if isinstance(v, int)}
    found: dict[Hashable, float] = {}
    progress = True
    while progress:
        progress = False
        for total, parts in relations:
            unknown = [m for m in (total, *parts) if m not in known]
            if len(unknown) == 1:
                u = unknown[0]
                if u == total:
                    value = sum(known[p] for p in parts)
                else:
                    value = known[total] - sum(known[p] for p in parts if p != u)
                known[u] = found[u] = value
                progress = True
            elif len(unknown) >= 2 and total not in unknown:
                rest = known[total] - sum(known[p] for p in parts if p in known)
                if rest == len(unknown):
                    for u in unknown:
                        known[u] = found[u] = 1
                    progress = True
    return found


def bounds(
    shown: Mapping[Hashable, Shown],
    relations: Sequence[Relation],
    rounded: bool = False,
) -> dict[Hashable, tuple[float, float]]:
    """Least and greatest value of each withheld cell consistent with everything shown."""
    cells = sorted(shown, key=str)
    index = {k: i for i, k in enumerate(cells)}
    hidden = [k for k in cells if shown[k] is None]
    hidden += [k for k in cells if isinstance(shown[k], tuple)]
    if not hidden:
        return {}
    a_eq = np.zeros((len(relations), len(cells)))
    for row, (total, parts) in enumerate(relations):
        a_eq[row, index[total]] += 1
        for p in parts:
            a_eq[row, index[p]] -= 1
    limits: list[tuple[float, float | None]] = []
    for k in cells:
        value = shown[k]
        if value is None:
            limits.append((1, None))
        elif isinstance(value, tuple):
            limits.append(value)
        elif rounded:
            limits.append((max(value - 5, 0), value + 4))
        else:
            limits.append((value, value))
    out = {}
    for key in hidden:
        objective = np.zeros(len(cells))
        objective[index[key]] = 1
        low = linprog(objective, A_eq=a_eq, b_eq=np.zeros(len(relations)), bounds=limits)
        high = linprog(-objective, A_eq=a_eq, b_eq=np.zeros(len(relations)), bounds=limits)
        assert low.status == 0, low.message
        high_value = float("inf") if high.status == 3 else -high.fun
        out[key] = (low.fun, high_value)
    return out
