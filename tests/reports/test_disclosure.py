"""Disclosure control on random tables: every small count is withheld, and no withheld
count can be recovered by an attacker (tests/reports/attack.py) from what is shown."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placement.reports.disclosure import Relation, is_small, protect, round_to_ten
from tests.reports.attack import recovered

small_counts = st.one_of(st.integers(0, 6), st.integers(0, 60))


def grid(cells: list[list[int]]) -> tuple[dict[object, int], list[Relation]]:
    """A two-way table with its row, column and grand totals."""
    rows, cols = len(cells), len(cells[0])
    counts: dict[object, int] = {}
    for r in range(rows):
        for c in range(cols):
            counts[(r, c)] = cells[r][c]
        counts[(r, "total")] = sum(cells[r])
    for c in range(cols):
        counts[("total", c)] = sum(cells[r][c] for r in range(rows))
    counts[("total", "total")] = sum(map(sum, cells))
    relations = [Relation((r, "total"), tuple((r, c) for c in range(cols))) for r in range(rows)]
    relations += [Relation(("total", c), tuple((r, c) for r in range(rows))) for c in range(cols)]
    relations.append(Relation(("total", "total"), tuple(("total", c) for c in range(cols))))
    relations.append(Relation(("total", "total"), tuple((r, "total") for r in range(rows))))
    return counts, relations


def published(counts: dict[object, int], withheld: frozenset[object]) -> dict[object, int | None]:
    return {k: (None if k in withheld else v) for k, v in counts.items()}


def attack_relations(relations: list[Relation]) -> list[tuple[object, tuple[object, ...]]]:
    return [(r.total, r.parts) for r in relations]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(small_counts, min_size=1, max_size=8))
def test_one_way_tables_leak_nothing(parts: list[int]) -> None:
    counts: dict[object, int] = {i: v for i, v in enumerate(parts)} | {"total": sum(parts)}
    relations = [Relation("total", tuple(range(len(parts))))]
    withheld = protect(counts, relations)
    assert {k for k, v in counts.items() if is_small(v)} <= withheld
    assert all(counts[k] > 0 for k in withheld), "zeros are shown, never withheld"
    shown = published(counts, withheld)
    assert recovered(shown, attack_relations(relations)) == {}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 5).flatmap(
        lambda cols: st.lists(
            st.lists(small_counts, min_size=cols, max_size=cols), min_size=1, max_size=5
        )
    )
)
def test_two_way_tables_leak_nothing(cells: list[list[int]]) -> None:
    counts, relations = grid(cells)
    withheld = protect(counts, relations)
    assert {k for k, v in counts.items() if is_small(v)} <= withheld
    assert all(counts[k] > 0 for k in withheld)
    shown = published(counts, withheld)
    assert recovered(shown, attack_relations(relations)) == {}


def test_a_lone_small_part_takes_another_with_it() -> None:
    counts: dict[object, int] = {"a": 3, "b": 10, "c": 7, "total": 20}
    withheld = protect(counts, [Relation("total", ("a", "b", "c"))])
    assert withheld == {"a", "c"}


def test_two_ones_under_a_shown_total_are_not_left_alone() -> None:
    counts: dict[object, int] = {"a": 1, "b": 1, "c": 9, "total": 11}
    withheld = protect(counts, [Relation("total", ("a", "b", "c"))])
    assert withheld == {"a", "b", "c"}


@given(st.integers(0, 10_000))
def test_rounding_is_to_the_nearest_ten_halves_up(count: int) -> None:
    rounded = round_to_ten(count)
    assert rounded % 10 == 0
    assert -5 < count - rounded <= 5 or (count - rounded == -5)
    assert abs(count - rounded) <= 5
    assert round_to_ten(15) == 20 and round_to_ten(14) == 10 and round_to_ten(4) == 0
