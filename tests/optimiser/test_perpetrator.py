from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from optimiser import perpetrator_options
from optimiser.geo import distance_km
from optimiser.problem import Household, Point, RehousingOption, Weights
from tests.optimiser import strategies
from tests.optimiser.builders import AS_OF, LEEDS, MANCHESTER, household
from tests.optimiser.checker import move_violations


def option(**kw: object) -> RehousingOption:
    defaults: dict[str, object] = dict(
        id="r1", authority_code="L", location=LEEDS, available_from=AS_OF
    )
    return RehousingOption(**(defaults | kw))  # type: ignore[arg-type]


CASE = household(home=MANCHESTER, perpetrator_move_possible=True)


DEFAULT = Weights()


def reasons(h: Household, o: RehousingOption, weights: Weights = DEFAULT) -> set[str]:
    result = perpetrator_options(h, [o], weights, AS_OF)
    return set(result.excluded)


def test_an_eligible_option_is_ranked_with_its_parts() -> None:
    result = perpetrator_options(
        CASE, [option(id="b", weekly_cost=500.0), option(id="a")], Weights(), AS_OF
    )
    assert [o.option_id for o in result.options] == ["a", "b"]
    assert result.options[0].parts["perpetrator_move"] == Weights().perpetrator_move
    assert "victim and children stay home" in result.options[0].explanation
    assert result.excluded == {}


def test_moves_not_possible_or_without_a_home_are_ruled_out() -> None:
    assert reasons(household(home=MANCHESTER), option()) == {"perpetrator_move_not_possible"}
    assert reasons(household(perpetrator_move_possible=True), option()) == {
        "perpetrator_move_not_possible"
    }


def test_minimum_distance_from_home_schools_and_named_places() -> None:
    gap = distance_km(MANCHESTER, LEEDS)
    assert reasons(CASE, option(), Weights(min_perpetrator_distance_km=gap)) == set()
    assert reasons(CASE, option(), Weights(min_perpetrator_distance_km=gap + 0.1)) == {"too_close"}
    near_school = household(
        home=Point(51.5, -0.1), perpetrator_move_possible=True, schools=(LEEDS,)
    )
    assert reasons(near_school, option()) == {"too_close"}
    near_work = household(
        home=Point(51.5, -0.1), perpetrator_move_possible=True, stay_near=(Point(53.79, -1.55),)
    )
    assert reasons(near_work, option()) == {"too_close"}


def test_risk_conditions_and_availability() -> None:
    high = household(home=MANCHESTER, perpetrator_move_possible=True, risk_level="high")
    assert reasons(high, option(max_risk_level="medium")) == {"risk"}
    bailed = household(
        home=MANCHESTER,
        perpetrator_move_possible=True,
        perpetrator_conditions=frozenset({"bail", "dvpo"}),
    )
    assert reasons(bailed, option(accepts_conditions=frozenset({"bail"}))) == {"conditions"}
    assert reasons(bailed, option(accepts_conditions=frozenset({"bail", "dvpo"}))) == set()
    assert reasons(CASE, option(available_from=AS_OF + timedelta(days=1))) == {"not_available_yet"}


@settings(max_examples=60, deadline=None)
@given(strategies.households(), st.lists(strategies.rehousing_options(), max_size=5))
def test_checker_accepts_every_ranked_move(h: Household, options: list[RehousingOption]) -> None:
    options = [
        RehousingOption(**{**{f: getattr(o, f) for f in o.__dataclass_fields__}, "id": f"r{i}"})
        for i, o in enumerate(options)
    ]
    result = perpetrator_options(h, options, Weights(), AS_OF)
    eligible = {o.id for o in options if not move_violations(h, o, Weights(), AS_OF)}
    assert {o.option_id for o in result.options} == eligible


def plain_move_parts(h: Household, o: RehousingOption, weights: Weights) -> dict[str, float]:
    """The move's score restated from the weights, one option at a time."""
    assert h.home is not None
    beyond = max(distance_km(h.home, o.location) - weights.min_perpetrator_distance_km, 0.0)
    return {
        "perpetrator_move": weights.perpetrator_move,
        "school": weights.school if h.keep_school and h.schools else 0.0,
        "near": weights.near if h.stay_near else 0.0,
        "perpetrator_distance": weights.perpetrator_distance
        * min(beyond / weights.perpetrator_scale_km, 1.0),
        "cost": weights.cost * min(max(1.0 - o.weekly_cost / weights.cost_scale, 0.0), 1.0),
        "cross_border": weights.cross_border,
    }


@settings(max_examples=60, deadline=None)
@given(strategies.households(), st.lists(strategies.rehousing_options(), max_size=6))
def test_moves_are_scored_part_by_part_and_ranked_best_first(
    h: Household, options: list[RehousingOption]
) -> None:
    """The scores computed for all options at once (as the allocator's candidates take
    them) match a plain restatement, and rank best first, ties by id."""
    options = [
        RehousingOption(**{**{f: getattr(o, f) for f in o.__dataclass_fields__}, "id": f"r{i}"})
        for i, o in enumerate(options)
    ]
    ranked = perpetrator_options(h, options, DEFAULT, AS_OF).options
    by_id = {o.id: o for o in options}
    for move in ranked:
        plain = plain_move_parts(h, by_id[move.option_id], DEFAULT)
        assert move.parts.keys() == plain.keys()
        assert all(abs(move.parts[k] - plain[k]) <= 1e-9 for k in plain)
        assert abs(move.score - sum(plain.values())) <= 1e-9
    keys = [(-move.score, move.option_id) for move in ranked]
    assert keys == sorted(keys)
