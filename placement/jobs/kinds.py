"""The kinds of job there are, each with the function that runs it."""

from __future__ import annotations

WHAT_IF = "what_if"
ALLOCATION = "allocation"
SIMULATION = "simulation"


def register() -> None:
    """Fill `runners.RUNNERS` (imported late: the simulation loads numpy)."""
    from placement.jobs.allocation import run_allocation
    from placement.jobs.runners import RUNNERS
    from placement.jobs.simulation import run_simulation
    from placement.jobs.whatif import run_what_if

    RUNNERS.setdefault(WHAT_IF, run_what_if)
    RUNNERS.setdefault(ALLOCATION, run_allocation)
    RUNNERS.setdefault(SIMULATION, run_simulation)
