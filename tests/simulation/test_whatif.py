"""What-if: changes apply as named, both sides share their year, intervals are Student's."""

import pytest

from optimiser.problem import Protocol
from simulation.arrivals import draw_arrivals
from simulation.policies import Batch
from simulation.service import life
from simulation.whatif import AddUnits, ChangeProtocol, RemoveUnits, interval, what_if
from tests.simulation.worlds import household, unit, world

W = world(
    (unit(), unit("u2", access_features=frozenset({"wheelchair"})), unit("u3", authority_code="B")),
    (household(),),
    per_day=1.0,
    protocols=(Protocol(id="gm", members=frozenset({"A", "C"})),),
)


def test_adding_units_keeps_every_other_units_year_and_the_arrivals() -> None:
    more = AddUnits(2, unit("new")).apply(W)
    assert [u.id for u in more.units[-2:]] == ["new-0", "new-1"]
    assert draw_arrivals(more, 4, 60) == draw_arrivals(W, 4, 60)
    for u in W.units:
        assert life(u, 4, 60, 0.5) == life(more.units[more.unit_row[u.id]], 4, 60, 0.5)


def test_removing_takes_units_of_the_kind_named_and_refuses_too_many() -> None:
    fewer = RemoveUnits(1, "refuge", "A", frozenset({"wheelchair"})).apply(W)
    assert [u.id for u in fewer.units] == ["u1", "u3"]
    with pytest.raises(ValueError, match="only 2 units"):
        RemoveUnits(3, "refuge", "A").apply(W)


def test_an_authority_joins_and_leaves_a_protocol() -> None:
    joined = ChangeProtocol("gm", "B").apply(W)
    assert joined.protocols[0].members == {"A", "B", "C"}
    assert ChangeProtocol("gm", "A", leave=True).apply(joined).protocols[0].members == {"B", "C"}
    # A protocol left with one member is none (the matcher refuses a protocol of one).
    assert "gm" not in {p.id for p in ChangeProtocol("gm", "C", leave=True).apply(W).protocols}
    with pytest.raises(ValueError, match="no protocol"):
        ChangeProtocol("nope", "B").apply(W)


def test_interval_is_students_t_over_seeds() -> None:
    mean, low, high = interval([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert high - mean == mean - low == pytest.approx(4.303 * 1.0 / 3**0.5)
    assert interval([5.0]) == (5.0, 5.0, 5.0)


def test_a_paired_what_if_reports_each_figure_with_its_interval() -> None:
    out = what_if(W, AddUnits(3, unit("new")), Batch(), [1, 2, 3], 60)
    assert out["policy"] == "batch" and out["seeds"] == 3
    placed = out["placed"]
    assert placed["difference"] == pytest.approx(placed["changed"] - placed["baseline"], abs=0.11)
    low, high = placed["interval_95"]
    assert low <= placed["difference"] <= high
    assert set(out) >= {"weighted_placed", "unmet_withdrew_waiting", "median_days_to_placement"}
