from enum import StrEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimiser.enums import AccessFeature, Specialism, Support
from optimiser.options import options_for_household
from optimiser.problem import Household, Protocol, Unit, Weights
from optimiser.unit_table import NO_BOY_LIMIT, UnitTable, bit, bits
from tests.optimiser import strategies
from tests.optimiser.builders import AS_OF, household, unit


def test_columns_follow_the_units() -> None:
    table = UnitTable.from_units(
        [
            unit(id="b", authority_code="Z", languages=frozenset({"pl"}), max_boy_age=12),
            unit(id="a", access_features=frozenset({"wheelchair"})),
        ]
    )
    assert len(table) == 2
    assert table.ids == ("b", "a")
    assert table.id_rank.tolist() == [1, 0]
    assert [table.authorities[i] for i in table.authority] == ["Z", "A"]
    assert table.max_boy_age.tolist() == [12, NO_BOY_LIMIT]
    assert table.offers_language[:, table.language_index["pl"]].tolist() == [True, False]
    assert table.access.tolist()[0] == 0 and table.access.tolist()[1] != 0


def test_one_table_serves_many_requests_unchanged() -> None:
    table = UnitTable.from_units([unit(id=f"u{i}") for i in range(3)])
    before = table.bed_spaces.copy()
    for i in range(3):
        options_for_household(table, household(id=f"h{i}"), (), Weights(), AS_OF)
    assert (table.bed_spaces == before).all()
    assert UnitTable.from_units([]).ids == ()


def test_columns_are_read_only() -> None:
    table = UnitTable.from_units([unit()])
    with pytest.raises(ValueError, match="read-only"):
        table.bed_spaces[0] = 99


@settings(max_examples=60, deadline=None)
@given(strategies.unit_lists(), strategies.households(), strategies.protocols(), st.data())
def test_a_taken_subset_answers_as_a_table_of_those_units(
    units: list[Unit], h: Household, protocols: tuple[Protocol, ...], data: st.DataObject
) -> None:
    rows = data.draw(
        st.lists(st.sampled_from(range(len(units))), unique=True) if units else st.just([])
    )
    subset = UnitTable.from_units(units).take(rows)
    alone = UnitTable.from_units([units[i] for i in rows])
    assert subset.ids == alone.ids
    assert subset.units == alone.units
    assert subset.id_rank.tolist() == alone.id_rank.tolist()
    assert options_for_household(
        subset, h, protocols, Weights(), AS_OF, limit=100
    ) == options_for_household(alone, h, protocols, Weights(), AS_OF, limit=100)


def test_a_taken_subset_is_read_only_and_leaves_the_whole_alone() -> None:
    whole = UnitTable.from_units([unit(id=f"u{i}", bed_spaces=i + 1) for i in range(4)])
    part = whole.take([3, 1])
    assert part.ids == ("u3", "u1")
    assert part.bed_spaces.tolist() == [4, 2]
    assert whole.bed_spaces.tolist() == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="read-only"):
        part.bed_spaces[0] = 99


@pytest.mark.parametrize("vocabulary", [AccessFeature, Support, Specialism])
def test_each_value_has_the_bit_of_its_place_in_the_vocabulary(
    vocabulary: type[StrEnum],
) -> None:
    values = list(vocabulary._value2member_map_)
    assert [bit(vocabulary, v) for v in values] == [1 << values.index(v) for v in values]
    assert bits(vocabulary, values) == (1 << len(values)) - 1
