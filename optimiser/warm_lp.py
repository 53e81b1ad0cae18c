"""One LP relaxation kept alive across pricing rounds, re-solved from its last basis.

Pricing (:mod:`optimiser.pricing`) re-solves the restricted LP after each round adds a
few thousand pairs to tens of thousands. Solved cold each time, those LPs took 82 of
about 101 CPU seconds at five times national scale; kept as one HiGHS model whose new
pairs join as columns, dual simplex restarts from the previous optimal basis (still
primal feasible, the new columns enter at zero) and the same rounds took about 6.
The second phase keeps the first's model too: holding the first's optimum adds one row
(its slack joins the basis) and the new objective only changes costs, so the basis
stays primal feasible; solved cold, that LP alone took 68 CPU seconds.
Columns are boxed, ``0 <= x <= 1``, which the one-target-per-case rows imply anyway: a
column that prices out then sits at its upper bound and the dual simplex restarts from a
dual feasible basis; unbounded above, the second phase's first LP (new costs) took 33 CPU
seconds, boxed about 1.5.

It uses scipy's own HiGHS binding, a private module (``scipy.optimize._highspy``),
because the PyPI ``highspy`` crashes when loaded next to OR-Tools; pyproject.toml pins
scipy to the versions whose binding this was written against.
"""

import time

import numpy as np
from scipy import sparse
from scipy.optimize._highspy import _core as highs  # private: see the module docstring

from optimiser.unit_table import IntArray

INTEGRALITY_TOLERANCE = 1e-6
"""An LP solution this close to whole numbers is taken as whole."""
SOLVED = (highs.HighsModelStatus.kOptimal, highs.HighsModelStatus.kModelEmpty)
"""HiGHS's statuses for an optimum; a model with no columns yet is trivially at one."""


class WarmLP:
    """Maximise ``gain @ x`` subject to ``a @ x <= b``, ``0 <= x <= 1``, over the columns
    of ``a`` added so far."""

    def __init__(self, a: sparse.csc_matrix, b: np.ndarray, gain: IntArray) -> None:
        self._a = a
        self._gain = gain
        self._columns: list[int] = []
        self.has = np.zeros(a.shape[1], dtype=np.bool_)
        """Which pairs are columns of the model."""
        self._model = highs._Highs()
        self._model.setOptionValue("output_flag", False)
        self._model.setOptionValue("presolve", "off")
        self._model.setOptionValue("solver", "simplex")
        rows = a.shape[0]
        empty = np.zeros(0, dtype=np.int32)
        self._model.addRows(
            rows, np.full(rows, -highs.kHighsInf), b.astype(float), 0, empty, empty, np.zeros(0)
        )

    def add(self, pairs: IntArray) -> None:
        """Add ``pairs`` (not yet in the model) as columns."""
        if len(pairs) == 0:
            return
        sub = self._a[:, pairs].tocsc()
        self._model.addCols(
            len(pairs),
            -self._gain[pairs].astype(float),
            np.zeros(len(pairs)),
            np.ones(len(pairs)),
            sub.nnz,
            sub.indptr[:-1].astype(np.int32),
            sub.indices.astype(np.int32),
            sub.data.astype(float),
        )
        self._columns.extend(pairs.tolist())
        self.has[pairs] = True

    def hold(self, row: np.ndarray, limit: float) -> None:
        """Add the constraint ``row @ x <= limit`` (``row`` over every pair)."""
        self._a = sparse.vstack([self._a, row.reshape(1, -1)], format="csc")
        columns = np.array(self._columns, dtype=np.int64)
        positions = np.arange(len(columns), dtype=np.int32)
        self._model.addRow(
            -highs.kHighsInf, limit, len(columns), positions, row[columns].astype(float)
        )

    def reprice(self, gain: IntArray) -> None:
        """Maximise ``gain @ x`` instead, from the current basis."""
        self._gain = gain
        columns = np.array(self._columns, dtype=np.int64)
        self._model.changeColsCost(
            len(columns), np.arange(len(columns), dtype=np.int32), -gain[columns].astype(float)
        )

    def solve(self, deadline: float) -> tuple[np.ndarray, float, IntArray | None] | None:
        """The row duals (at least 0) and the LP's value, and its chosen pairs when its
        solution is whole (a whole LP optimum is an allocation that needs no MIP);
        ``None`` when it did not reach the optimum before ``deadline``."""
        # HiGHS holds its time limit against the model's run time summed over every
        # solve, not this one's: passed the seconds left alone, a model that had already
        # run longer than that stopped at once, which at five times national scale under
        # load left a round unsolved (and the allocation ``feasible``) with 20 s to spare
        left = max(deadline - time.monotonic(), 0.01)
        self._model.setOptionValue("time_limit", self._model.getRunTime() + left)
        self._model.run()
        if self._model.getModelStatus() not in SOLVED:
            return None
        solution = self._model.getSolution()
        x = np.asarray(solution.col_value, dtype=float)
        duals = np.maximum(-np.asarray(solution.row_dual, dtype=float), 0.0)
        value = -float(self._model.getInfo().objective_function_value)
        whole = bool(np.all(np.abs(x - np.rint(x)) <= INTEGRALITY_TOLERANCE))
        columns = np.array(self._columns, dtype=np.int64)
        return duals, value, (columns[x > 0.5] if whole else None)
