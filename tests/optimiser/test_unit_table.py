import pytest

from optimiser.options import options_for_household
from optimiser.problem import Weights
from optimiser.unit_table import NO_BOY_LIMIT, UnitTable
from tests.optimiser.builders import AS_OF, household, unit


def test_columns_follow_the_units() -> None:
    table = UnitTable.from_units([
        unit(id="b", authority_code="Z", languages=frozenset({"pl"}), max_boy_age=12),
        unit(id="a", access_features=frozenset({"wheelchair"})),
    ])
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
