"""CP-SAT, the alternative engine, must agree with HiGHS."""

import time

from optimiser.candidates import build_candidates
from optimiser.couplings import is_feasible
from optimiser.cpsat import solve_joint
from optimiser.mip import solve_lexicographic
from tests.optimiser.test_mip import coupled


def test_both_engines_prove_the_same_optimum() -> None:
    c = build_candidates(coupled())
    scale = c.dominance_scale
    value = c.value(scale)
    mip = solve_lexicographic(c, scale, time.monotonic() + 10)
    cp = solve_joint(c, value, [], time.monotonic() + 10, workers=2)
    assert mip is not None and cp is not None
    assert mip.proven and cp.proven
    assert is_feasible(c, mip.chosen) and is_feasible(c, cp.chosen)
    assert value[mip.chosen].sum() == value[cp.chosen].sum() == mip.bound == cp.bound
