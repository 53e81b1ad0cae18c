"""What a solver engine hands back to the allocator."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SolverOutcome:
    chosen: list[int]
    """Indices of the chosen candidate pairs."""
    bound: int
    """An upper bound on ``Candidates.value`` summed over any feasible allocation."""
    proven: bool
