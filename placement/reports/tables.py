"""A report's tables: counts by category, their totals, and what is published of them.

A count table is built from events, each a record counted once, in the one quarter it
falls in, under a tuple of category codes (one per breakdown). Its totals and the
relations between them follow from its shape; `disclosure.protect` decides what is
withheld. A statistic (a median, a percentage) is shown where the records behind it are
5 or more, `[c]` where they are 1 to 4, `[z]` where there are none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

from placement.reports.disclosure import Relation, is_small, protect, round_to_ten

TOTAL = "total"
Key = tuple[str, ...]

WITHHELD = "[c]"
NOT_APPLICABLE = "[z]"


@dataclass(frozen=True, slots=True)
class Figure:
    """One published number, or the marker that stands for it."""

    value: int | float | None
    marker: str | None = None


@dataclass(frozen=True, slots=True)
class Shape:
    """What a count table breaks down by: its categories in each breakdown, in order."""

    breakdown: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]
    margins: bool = True
    """Whether the totals (of each row and column, and the grand total) are shown."""

    def keys(self) -> list[Key]:
        """Every cell, totals included."""
        if len(self.breakdown) == 1:
            cells: list[Key] = [(c,) for c in self.categories[0]]
            return [*cells, (TOTAL,)] if self.margins else cells
        rows, cols = self.categories
        keys: list[Key] = [(r, c) for r in rows for c in cols]
        if self.margins:
            keys += [(r, TOTAL) for r in rows] + [(TOTAL, c) for c in cols] + [(TOTAL, TOTAL)]
        return keys

    def relations(self) -> list[Relation]:
        if not self.margins:
            return []
        if len(self.breakdown) == 1:
            return [Relation((TOTAL,), tuple((c,) for c in self.categories[0]))]
        rows, cols = self.categories
        out = [Relation((r, TOTAL), tuple((r, c) for c in cols)) for r in rows]
        out += [Relation((TOTAL, c), tuple((r, c) for r in rows)) for c in cols]
        out.append(Relation((TOTAL, TOTAL), tuple((TOTAL, c) for c in cols)))
        out.append(Relation((TOTAL, TOTAL), tuple((r, TOTAL) for r in rows)))
        return out

    def count(self, events: Iterable[tuple[Key, int]]) -> dict[Key, int]:
        """Counts of every cell from (category key, weight) events."""
        counts: Counter[Key] = Counter({key: 0 for key in self.keys()})
        two_way = len(self.breakdown) == 2
        for key, weight in events:
            if key not in counts:
                continue  # a category outside the table (an authority outside the area)
            counts[key] += weight
            if self.margins and two_way:
                counts[(key[0], TOTAL)] += weight
                counts[(TOTAL, key[1])] += weight
                counts[(TOTAL, TOTAL)] += weight
            elif self.margins:
                counts[(TOTAL,)] += weight
        return dict(counts)


@dataclass(slots=True)
class CountTable:
    """A measure counted by category, per quarter of the period."""

    code: str
    title: str
    unit: str
    breakdown: tuple[str, ...]
    keys: list[Key]
    relations: list[Relation]
    quarters: list[dict[Key, int]]
    protected: bool = True
    """Counts of people are protected; counts of provision (bed spaces) are not."""
    note: str = ""

    def totals(self) -> dict[Key, int]:
        out: Counter[Key] = Counter()
        for quarter in self.quarters:
            out.update(quarter)
        return {key: out[key] for key in self.keys}

    def withheld(self) -> frozenset[Hashable]:
        """Withheld in the period: whatever any of its quarters' own reports withholds."""
        if not self.protected:
            return frozenset()
        hidden: set[Hashable] = set()
        for quarter in self.quarters:
            hidden |= protect(quarter, self.relations)
        return frozenset(hidden)

    def publish(self, rounded: bool) -> dict[Key, Figure]:
        hidden = self.withheld()
        out = {}
        for key, count in self.totals().items():
            if key in hidden:
                out[key] = Figure(None, WITHHELD)
            else:
                out[key] = Figure(round_to_ten(count) if rounded else count)
        return out


def count_table(
    code: str,
    title: str,
    unit: str,
    shape: Shape,
    quarters: Sequence[Iterable[tuple[Key, int]]],
    *,
    protected: bool = True,
    note: str = "",
) -> CountTable:
    """A count table of `shape` from each quarter's (category key, weight) events."""
    return CountTable(
        code=code,
        title=title,
        unit=unit,
        breakdown=shape.breakdown,
        keys=shape.keys(),
        relations=shape.relations(),
        quarters=[shape.count(events) for events in quarters],
        protected=protected,
        note=note,
    )


@dataclass(slots=True)
class StatisticTable:
    """A statistic (a median, a share) by category, over the whole period."""

    code: str
    title: str
    unit: str
    breakdown: tuple[str, ...]
    values: dict[Key, tuple[float | None, int]]
    """Each category's value and how many records it is computed from."""
    note: str = ""

    def publish(self, rounded: bool) -> dict[Key, Figure]:
        out = {}
        for key, (value, basis) in self.values.items():
            if value is None:
                out[key] = Figure(None, NOT_APPLICABLE)
            elif is_small(basis):
                out[key] = Figure(None, WITHHELD)
            else:
                out[key] = Figure(round(value, 1))
        return out


Table = CountTable | StatisticTable


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile by linear interpolation between closest ranks (as numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
