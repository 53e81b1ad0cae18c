import numpy as np

from optimiser.problem import Weights
from optimiser.rules import Request
from optimiser.scoring import PARTS, fit_down, score_units
from optimiser.unit_table import UnitTable
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
