"""The checker finds every kind of unsound history it is meant to."""

from dataclasses import replace

import pytest

from simulation.checker import check_history
from simulation.history import History, Stay
from simulation.service import HOURS, Life
from tests.simulation.worlds import OPTION, arrival, household, unit, world

W = world((unit(accepts_nrpf=False), unit("u2")), (household(), household("n", nrpf=True)))
A = (
    arrival(W.mix[0], 0, 100),
    replace(arrival(W.mix[0], 5, 100), household=replace(W.mix[0], id="h2")),
    arrival(W.mix[1], 0, 100, template=1),
)
LIVES = {"u1": Life(0, ((10 * HOURS, 12 * HOURS),)), "u2": Life(0, ())}
WEEK = 7 * HOURS


def history(*stays: Stay) -> History:
    return History("test", 1, 30, A, stays, LIVES)


def test_a_sound_history_passes() -> None:
    assert (
        check_history(
            W, history(Stay("h1", "u1", None, 0, WEEK), Stay("h2", "u2", None, 5, 5 + WEEK))
        )
        == []
    )


@pytest.mark.parametrize(
    ("stays", "found"),
    [
        ((Stay("h1", "u1", None, 0, WEEK), Stay("h2", "u1", None, 5, 5 + WEEK)), "at once"),
        ((Stay("h1", "u1", None, 0, WEEK), Stay("h1", "u2", None, 1, 1 + WEEK)), "twice"),
        ((Stay("n", "u1", None, 0, WEEK),), "breaks nrpf"),
        ((Stay("h2", "u2", None, 1, 1 + WEEK),), "outside its wait"),
        ((Stay("h1", "u2", None, 100, 100 + WEEK),), "outside its wait"),
        ((Stay("h1", "u1", None, 10 * HOURS, 10 * HOURS + WEEK),), "not admitting"),
        ((Stay("h1", "u2", None, 0, WEEK - 1),), "wrong time"),
        ((Stay("ghost", "u2", None, 0, WEEK),), "never arrived"),
        ((Stay("h1", None, "o9", 0, WEEK),), "may not go"),
    ],
)
def test_each_fault_is_named(stays: tuple[Stay, ...], found: str) -> None:
    w = replace(W, rehousing_options=(replace(OPTION, id="o9"),))
    problems = check_history(w, history(*stays))
    assert any(found in p for p in problems), problems
