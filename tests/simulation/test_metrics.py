"""Metrics read off a hand-made history."""

from dataclasses import replace

from optimiser.priority import priority_points
from optimiser.problem import Member
from simulation.history import History, Stay
from simulation.metrics import measure
from simulation.service import HOURS, Life
from tests.simulation.worlds import arrival, household, unit, world

WHEELCHAIR = (Member(30, "female", frozenset({"wheelchair"})),)
W = world(
    (unit(), unit("u2", authority_code="B", accepts_nrpf=True)),
    (household(), household("w", members=WHEELCHAIR), household("x", pets=True)),
)


def test_counts_waits_unmet_occupancy_and_borders() -> None:
    a = (
        arrival(W.mix[0], 0, 1000),
        replace(arrival(W.mix[1], 24, 1000, template=1), household=replace(W.mix[1], id="w1")),
        replace(arrival(W.mix[2], 0, 50, template=2), household=replace(W.mix[2], id="x1")),
        replace(arrival(W.mix[0], 100, 200), household=replace(W.mix[0], id="h2")),
        replace(arrival(W.mix[0], 600, 2000), household=replace(W.mix[0], id="h3")),
    )
    stays = (
        Stay("h1", "u1", None, 48, 48 + 7 * HOURS),
        Stay("w1", "u2", None, 24 + 96, 24 + 96 + 7 * HOURS),
    )
    history = History("p", 1, 30, a, stays, {"u1": Life(0, ()), "u2": Life(24, ())})
    m = measure(W, history)
    assert m.referred == 5 and m.placed == 2
    expected = priority_points(W.mix[0], W.weights) + priority_points(W.mix[1], W.weights)
    assert m.weighted_placed == expected / 100
    assert m.waits["all"].median_days == 3.0 and m.waits["all"].placed == 2
    assert m.waits["wheelchair"].median_days == 4.0 and m.waits["wheelchair"].referred == 1
    assert m.waits["nrpf"].placed == 0 and m.waits["nrpf"].median_days is None
    # x1 has a pet and no unit takes pets; h2 gave up; h3 is still waiting at day 30
    assert m.unmet == {"no_suitable_unit": 1, "withdrew_waiting": 1, "waiting_at_end": 1}
    assert m.cross_border == 1
    assert m.occupancy == (7 * HOURS * 2 + 24) / (2 * 30 * HOURS)
    assert m.perpetrator_moves == 0
