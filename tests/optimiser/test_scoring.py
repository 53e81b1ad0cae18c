import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from optimiser.geo import FloatArray, distances_km
from optimiser.problem import Household, Unit, Weights
from optimiser.rules import Request
from optimiser.scoring import PARTS, Scores, fit_down, keeps_school, score_units
from optimiser.unit_table import IntArray, UnitTable
from tests.optimiser import strategies
from tests.optimiser.builders import AS_OF, LEEDS, MANCHESTER, STOCKPORT, household, unit


def test_fit_down_is_one_at_zero_and_zero_at_scale() -> None:
    assert fit_down(np.array([0.0, 10.0, 20.0, 40.0]), 20.0).tolist() == [1.0, 0.5, 0.0, 0.0]


def test_parts_that_do_not_apply_are_zero_for_every_unit() -> None:
    table = UnitTable.from_units([unit(id="a", location=LEEDS), unit(id="b")])
    scores = score_units(
        table, Request.build(table, household(), (), AS_OF), np.arange(2), Weights()
    )
    for name in ("school", "perpetrator_distance", "near", "specialist"):
        assert scores.parts[name].tolist() == [0.0, 0.0]
    assert set(scores.parts) == set(PARTS)
    assert scores.school_km is None and scores.near_km is None


def test_closer_to_school_and_named_places_scores_higher() -> None:
    table = UnitTable.from_units(
        [unit(id="far", location=LEEDS), unit(id="near", location=STOCKPORT)]
    )
    h = household(keep_school=True, schools=(STOCKPORT,), stay_near=(MANCHESTER,))
    scores = score_units(table, Request.build(table, h, (), AS_OF), np.arange(2), Weights())
    assert scores.parts["school"][1] > scores.parts["school"][0] == 0.0
    assert scores.parts["near"][1] > scores.parts["near"][0]
    assert scores.total.tolist() == np.sum([scores.parts[n] for n in PARTS], axis=0).tolist()


def test_specialist_fit_counts_specialisms_language_and_support() -> None:
    table = UnitTable.from_units(
        [unit(id="a", specialisms=frozenset({"by_and_for"}), languages=frozenset({"ur"}))]
    )
    h = household(
        preferred_specialisms=frozenset({"by_and_for", "deaf_bsl"}),
        languages=("ur",),
        support_needs=frozenset({"mental_health"}),
    )
    scores = score_units(table, Request.build(table, h, (), AS_OF), np.arange(1), Weights())
    assert scores.parts["specialist"][0] == (0.5 + 1.0 + 0.0) / 3


def plain_scores(table: UnitTable, request: Request, rows: IntArray, weights: Weights) -> Scores:
    """Scores the plain way: a haversine call per point, `np.clip`, one `np.sum` (the
    specialist part, which no batching touched, is read from :func:`score_units`)."""
    h = request.household
    lat, lon, cos_lat = table.lat[rows], table.lon[rows], table.cos_lat[rows]
    zero = np.zeros(len(rows), dtype=np.float64)
    parts = dict.fromkeys(PARTS, zero)

    def fit(distance: FloatArray, scale: float) -> FloatArray:
        return np.clip(1.0 - distance / scale, 0.0, 1.0)

    school_km = beyond = near_km = None
    if keeps_school(h):
        school_km = np.max([distances_km(s, lat, lon, cos_lat) for s in h.schools], axis=0)
        parts["school"] = weights.school * fit(school_km, weights.school_scale_km)
    if h.perpetrator_zones:
        gaps = [distances_km(z.point, lat, lon, cos_lat) - z.radius_km for z in h.perpetrator_zones]
        beyond = np.maximum(np.min(gaps, axis=0), 0.0)
        parts["perpetrator_distance"] = weights.perpetrator_distance * np.minimum(
            beyond / weights.perpetrator_scale_km, 1.0
        )
    if h.stay_near:
        near_km = np.min([distances_km(p, lat, lon, cos_lat) for p in h.stay_near], axis=0)
        parts["near"] = weights.near * fit(near_km, weights.near_scale_km)
    parts["specialist"] = score_units(table, request, rows, weights).parts["specialist"]
    parts["cost"] = weights.cost * fit(table.weekly_cost[rows], weights.cost_scale)
    own = table.authority_index.get(h.authority_code, -1)
    parts["cross_border"] = weights.cross_border * (table.authority[rows] == own)
    total = np.sum([parts[name] for name in PARTS], axis=0) if len(rows) else zero
    return Scores(rows, parts, total, school_km, beyond, near_km)


def same(a: FloatArray | None, b: FloatArray | None) -> bool:
    """Bit for bit: a score or distance one ulp off could reorder options."""
    if a is None or b is None:
        return a is b
    return a.dtype == b.dtype and a.tobytes() == b.tobytes()


@settings(max_examples=150, deadline=None)
@given(strategies.unit_lists(), strategies.households(), st.data())
def test_batched_scores_equal_the_plain_ones_bit_for_bit(
    units: list[Unit], h: Household, data: st.DataObject
) -> None:
    table = UnitTable.from_units(units)
    picked = data.draw(st.lists(st.integers(0, max(len(units) - 1, 0)), max_size=len(units)))
    rows = np.array(sorted(set(picked)) if units else [], dtype=np.int64)
    weights = Weights(school=1.5, near=0.7, perpetrator_distance=1.3, cost=0.9)
    request = Request.build(table, h, (), AS_OF)
    got = score_units(table, request, rows, weights)
    want = plain_scores(table, request, rows, weights)
    assert all(same(got.parts[name], want.parts[name]) for name in PARTS)
    assert same(got.total, want.total)
    assert same(got.school_km, want.school_km)
    assert same(got.beyond_zone_km, want.beyond_zone_km)
    assert same(got.near_km, want.near_km)
