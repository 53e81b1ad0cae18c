from collections import Counter
from datetime import timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from optimiser import options_for_household
from optimiser.explain import describe_score
from optimiser.geo import FloatArray
from optimiser.options import NEAREST_MISSES, NearMiss, OptionsResult, RankedOption, facts
from optimiser.problem import Household, Point, Protocol, Unit, Weights, Zone
from optimiser.reasons import explain_exclusion
from optimiser.rules import HARD_RULES, Request
from optimiser.scoring import PARTS, score_units
from optimiser.unit_table import UnitTable
from tests.optimiser import strategies
from tests.optimiser.builders import AS_OF, LEEDS, MANCHESTER, STOCKPORT, household, unit
from tests.optimiser.checker import violations


def test_feasible_units_ranked_by_score_then_id() -> None:
    units = [
        unit(id="u3", location=LEEDS),
        unit(id="u2", location=STOCKPORT),
        unit(id="u1", location=STOCKPORT),
        unit(id="u4", bed_spaces=1, bedrooms=1, location=STOCKPORT),
    ]
    h = household(stay_near=(STOCKPORT,), members=household().members * 2)
    result = options_for_household(UnitTable.from_units(units), h, (), Weights(), AS_OF)
    assert [o.unit_id for o in result.options] == ["u1", "u2", "u3"]
    assert result.options[0].score == sum(result.options[0].parts.values())
    assert result.options[0].parts["near"] == Weights().near
    assert "Closest named place 0.0 km" in result.options[0].explanation
    assert result.excluded == {"capacity_bed_spaces": 1}
    assert result.feasible == 3 and result.checked == 4


def test_limit_and_determinism() -> None:
    units = [unit(id=f"u{i:02d}") for i in range(30)]
    table = UnitTable.from_units(units)
    first = options_for_household(table, household(), (), Weights(), AS_OF, limit=5)
    again = options_for_household(table, household(), (), Weights(), AS_OF, limit=5)
    assert first == again
    assert [o.unit_id for o in first.options] == ["u00", "u01", "u02", "u03", "u04"]
    assert options_for_household(table, household(), (), Weights(), AS_OF, limit=0).options == ()


def test_every_broken_rule_is_counted_and_nearest_misses_break_fewest() -> None:
    units = [
        unit(id="a", accepts_pets=False, bed_spaces=1, bedrooms=1),
        unit(id="b", accepts_pets=False),
        unit(id="c", accepts_pets=False, authority_code="Z"),
        unit(id="d", accepts_pets=True, available_from=AS_OF + timedelta(days=30)),
    ]
    h = household(pets=True, members=household().members * 2)
    result = options_for_household(UnitTable.from_units(units), h, (), Weights(), AS_OF)
    assert result.options == ()
    assert result.excluded == {
        "capacity_bed_spaces": 1,
        "protocol": 1,
        "not_available_yet": 1,
        "pets": 3,
    }
    assert [(m.unit_id, m.reasons) for m in result.nearest_misses] == [
        ("b", ("pets",)),
        ("d", ("not_available_yet",)),
        ("a", ("capacity_bed_spaces", "pets")),
        ("c", ("protocol", "pets")),
    ]
    assert "does not accept pets" in result.nearest_misses[0].explanation


def test_keep_apart_from_placed_linked_households() -> None:
    table = UnitTable.from_units([unit(id="a", scheme_id="s1"), unit(id="b", scheme_id="s2")])
    result = options_for_household(
        table, household(), (), Weights(), AS_OF, linked_schemes=frozenset({"s1"})
    )
    assert [o.unit_id for o in result.options] == ["b"]
    assert result.excluded == {"keep_apart": 1}


def test_score_parts_follow_the_weights() -> None:
    h = household(
        keep_school=True,
        schools=(MANCHESTER,),
        members=(household().members[0],),
        perpetrator_zones=(Zone(Point(53.0, -2.2426), 1.0),),
        preferred_specialisms=frozenset({"by_and_for"}),
    )
    u = unit(weekly_cost=750.0, specialisms=frozenset({"by_and_for"}))
    weights = Weights(school=2.0, cost=1.0, cost_scale=1500.0)
    option = options_for_household(UnitTable.from_units([u]), h, (), weights, AS_OF).options[0]
    assert option.parts["school"] == 2.0
    assert option.parts["cost"] == 0.5
    assert option.parts["specialist"] == 1.0
    assert option.parts["cross_border"] == 0.5
    assert 0 < option.parts["perpetrator_distance"] < 1


@settings(max_examples=60, deadline=None)
@given(strategies.unit_lists(), strategies.households(), strategies.protocols())
def test_checker_accepts_every_ranked_option(
    units: list[Unit], h: Household, protocols: tuple[Protocol, ...]
) -> None:
    result = options_for_household(
        UnitTable.from_units(units), h, protocols, Weights(), AS_OF, limit=100
    )
    by_id = {u.id: u for u in units}
    expected = {u.id: violations(h, u, protocols, AS_OF) for u in units}
    assert {o.unit_id for o in result.options} == {i for i, v in expected.items() if not v}
    for option in result.options:
        assert not violations(h, by_id[option.unit_id], protocols, AS_OF)
    keys = [(-o.score, o.unit_id) for o in result.options]
    assert keys == sorted(keys)
    assert result.excluded == dict(Counter(r for v in expected.values() for r in v))
    for miss in result.nearest_misses:
        assert set(miss.reasons) == expected[miss.unit_id]


def picked(column: FloatArray | None, at: int) -> float | None:
    return None if column is None else float(column[at])


def plain_options(
    table: UnitTable,
    h: Household,
    protocols: tuple[Protocol, ...],
    limit: int,
    linked: frozenset[str],
    names: dict[str, str],
) -> OptionsResult:
    """Options the plain way, a unit at a time: every rule's mask from HARD_RULES, each
    unit's reasons read from the masks, every feasible unit scored and fully sorted."""
    request = Request.build(table, h, protocols, AS_OF, linked_schemes=linked)
    masks = [(r, m) for r, rule in HARD_RULES if (m := rule(table, request)) is not None]
    broken = {i: tuple(r for r, m in masks if m[i]) for i in range(len(table))}
    rows = np.array([i for i in range(len(table)) if not broken[i]], dtype=np.int64)
    scores = score_units(table, request, rows, Weights())
    ranked = sorted(range(len(rows)), key=lambda at: (-scores.total[at], table.ids[rows[at]]))
    options = []
    for at in ranked[:limit]:
        parts = {name: float(scores.parts[name][at]) for name in PARTS}
        distances = (
            picked(scores.school_km, at),
            picked(scores.beyond_zone_km, at),
            picked(scores.near_km, at),
        )
        unit_facts = facts(table.units[rows[at]], h, distances, names)
        options.append(
            RankedOption(
                table.ids[rows[at]],
                float(scores.total[at]),
                parts,
                describe_score(float(scores.total[at]), parts, unit_facts),
            )
        )
    missed = sorted((len(b), table.ids[i], i) for i, b in broken.items() if b)
    return OptionsResult(
        household_id=h.id,
        checked=len(table),
        feasible=len(rows),
        options=tuple(options),
        excluded={str(r): int(m.sum()) for r, m in masks if m.any()},
        nearest_misses=tuple(
            NearMiss(table.ids[i], tuple(map(str, broken[i])), explain_exclusion(broken[i]))
            for _, _, i in missed[:NEAREST_MISSES]
        ),
    )


@settings(max_examples=150, deadline=None)
@given(
    strategies.unit_lists(),
    strategies.households(),
    strategies.protocols(),
    st.integers(0, 8),
    st.frozensets(st.sampled_from(strategies.SCHEMES), max_size=2),
)
def test_options_agree_with_the_plain_way(
    units: list[Unit],
    h: Household,
    protocols: tuple[Protocol, ...],
    limit: int,
    linked: frozenset[str],
) -> None:
    """The rule matrix, the batched reads of the top rows and the cached sentences give
    what the plain way gives: the same options, scores, parts, text, counts and misses,
    in the same order."""
    table = UnitTable.from_units(units)
    names = {"B": "Borough of B"}
    got = options_for_household(
        table,
        h,
        protocols,
        Weights(),
        AS_OF,
        limit,
        linked_schemes=linked,
        authority_names=names,
    )
    assert got == plain_options(table, h, protocols, limit, linked, names)
    assert all(type(v) is float for o in got.options for v in (o.score, *o.parts.values()))
