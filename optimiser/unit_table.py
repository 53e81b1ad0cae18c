"""Units in columns, built once and shared by every request.

Checking one household against every unit is a handful of numpy expressions over these
columns; building them is the slow part, so a caller builds a table when the register of
units changes and keeps it (it is immutable and safe to share between threads).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from operator import itemgetter
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from optimiser.composition import is_self_contained
from optimiser.enums import RISK_RANK, AccessFeature, GenderPolicy, Specialism, Support
from optimiser.geo import FloatArray, to_radians, unit_vectors
from optimiser.problem import Unit
from optimiser.validation import validate_units

T = TypeVar("T")

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

NO_BOY_LIMIT = 1_000
"""Stands for "no limit on boys' age": above any age a person can have."""

GENDER_POLICIES: tuple[GenderPolicy, ...] = tuple(GenderPolicy)


@cache
def _positions(vocabulary: type[StrEnum]) -> dict[str, int]:
    """Each value's place in its vocabulary, once per vocabulary, not a list per lookup."""
    return {value: i for i, value in enumerate(vocabulary._value2member_map_)}


def bit(vocabulary: type[StrEnum], value: str) -> int:
    return 1 << _positions(vocabulary)[value]


def bits(vocabulary: type[StrEnum], values: Iterable[str]) -> int:
    mask = 0
    for value in values:
        mask |= bit(vocabulary, value)
    return mask


@dataclass(frozen=True, slots=True, eq=False)
class UnitTable:
    units: tuple[Unit, ...]
    ids: tuple[str, ...]
    id_rank: IntArray
    """Position of each unit in id order: the deterministic tie-break."""
    authorities: tuple[str, ...]
    authority_index: dict[str, int]
    authority: IntArray
    schemes: tuple[str, ...]
    scheme_index: dict[str, int]
    scheme: IntArray
    lat: FloatArray
    lon: FloatArray
    cos_lat: FloatArray
    vectors: FloatArray
    """Units x 3: each unit's point as a unit vector, for radius tests by dot product."""
    bedrooms: IntArray
    self_contained: BoolArray
    """Whether the bedroom standard applies to the unit (see :mod:`optimiser.composition`)."""
    bed_spaces: IntArray
    cots: IntArray
    access: IntArray
    support: IntArray
    specialisms: IntArray
    available_from: IntArray
    """Proleptic Gregorian ordinals, as ``date.toordinal`` gives."""
    gender_policy: IntArray
    """Index into :data:`GENDER_POLICIES`."""
    max_boy_age: IntArray
    max_risk: IntArray
    accepts_nrpf: BoolArray
    accepts_pets: BoolArray
    languages: tuple[str, ...]
    language_index: dict[str, int]
    offers_language: BoolArray
    """Units x languages."""
    weekly_cost: FloatArray

    def __len__(self) -> int:
        return len(self.units)

    @classmethod
    def from_units(cls, units: Sequence[Unit]) -> "UnitTable":
        """Validate and index; raises :class:`~optimiser.ProblemError` naming ``units[i]``.
        The columns are made read-only, so a cached table cannot be changed by a caller."""
        units = tuple(units)
        validate_units(units)
        ids = tuple(u.id for u in units)
        id_rank = np.empty(len(units), dtype=np.int64)
        id_rank[np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)] = np.arange(
            len(units), dtype=np.int64
        )
        authorities = tuple(sorted({u.authority_code for u in units}))
        authority_index = {code: i for i, code in enumerate(authorities)}
        schemes = tuple(sorted({u.scheme_id for u in units}))
        scheme_index = {s: i for i, s in enumerate(schemes)}
        languages = tuple(sorted({lang for u in units for lang in u.languages}))
        language_index = {lang: i for i, lang in enumerate(languages)}
        offers = np.zeros((len(units), len(languages)), dtype=np.bool_)
        for row, unit in enumerate(units):
            for lang in unit.languages:
                offers[row, language_index[lang]] = True
        lat, lon, cos_lat = to_radians(
            np.array([u.location.lat for u in units], dtype=np.float64),
            np.array([u.location.lon for u in units], dtype=np.float64),
        )

        def ints(values: Iterable[int]) -> IntArray:
            return np.fromiter(values, dtype=np.int64, count=len(units))

        return cls(
            units=units,
            ids=ids,
            id_rank=id_rank,
            authorities=authorities,
            authority_index=authority_index,
            authority=ints(authority_index[u.authority_code] for u in units),
            schemes=schemes,
            scheme_index=scheme_index,
            scheme=ints(scheme_index[u.scheme_id] for u in units),
            lat=lat,
            lon=lon,
            cos_lat=cos_lat,
            vectors=unit_vectors(lat, lon, cos_lat),
            bedrooms=ints(u.bedrooms for u in units),
            self_contained=np.fromiter(
                (is_self_contained(u) for u in units), dtype=np.bool_, count=len(units)
            ),
            bed_spaces=ints(u.bed_spaces for u in units),
            cots=ints(u.cots for u in units),
            access=ints(bits(AccessFeature, u.access_features) for u in units),
            support=ints(bits(Support, u.support) for u in units),
            specialisms=ints(bits(Specialism, u.specialisms) for u in units),
            available_from=ints(u.available_from.toordinal() for u in units),
            gender_policy=ints(GENDER_POLICIES.index(GenderPolicy(u.gender_policy)) for u in units),
            max_boy_age=ints(
                NO_BOY_LIMIT if u.max_boy_age is None else u.max_boy_age for u in units
            ),
            max_risk=ints(RISK_RANK[u.max_risk_level] for u in units),
            accepts_nrpf=np.fromiter(
                (u.accepts_nrpf for u in units), dtype=np.bool_, count=len(units)
            ),
            accepts_pets=np.fromiter(
                (u.accepts_pets for u in units), dtype=np.bool_, count=len(units)
            ),
            languages=languages,
            language_index=language_index,
            offers_language=offers,
            weekly_cost=np.fromiter(
                (u.weekly_cost for u in units), dtype=np.float64, count=len(units)
            ),
        )._frozen()

    def take(self, rows: Sequence[int] | IntArray) -> "UnitTable":
        """The table of just these rows, in this order, sharing this table's vocabularies.

        A caller that keeps every unit in one table (whatever its availability) can hand
        out the currently matchable ones after each booking in well under a millisecond,
        where `from_units` re-validates and re-encodes every unit. The result answers every
        question exactly as a table built from the same units would.
        """
        picked = np.asarray(rows, dtype=np.int64)
        order = np.argsort(self.id_rank[picked], kind="stable")
        id_rank = np.empty(len(picked), dtype=np.int64)
        id_rank[order] = np.arange(len(picked), dtype=np.int64)
        columns = {  # np.take: a quarter of fancy indexing's time on the 2-D columns
            name: np.take(getattr(self, name), picked, axis=0)
            for name in self.__dataclass_fields__
            if isinstance(getattr(self, name), np.ndarray) and name != "id_rank"
        }
        positions = picked.tolist()
        return UnitTable(
            units=_picked(self.units, positions),
            ids=_picked(self.ids, positions),
            id_rank=id_rank,
            authorities=self.authorities,
            authority_index=self.authority_index,
            schemes=self.schemes,
            scheme_index=self.scheme_index,
            languages=self.languages,
            language_index=self.language_index,
            **columns,
        )._frozen()

    def _frozen(self) -> "UnitTable":
        for column in (getattr(self, name) for name in self.__dataclass_fields__):
            if isinstance(column, np.ndarray):
                column.flags.writeable = False
        return self


def _picked(values: tuple[T, ...], positions: list[int]) -> tuple[T, ...]:
    """`values` at `positions`, as a tuple: `itemgetter` builds it in C, a quarter of the
    time a Python-level `map` takes over 10,000 units (a registry refresh does this for
    every booking)."""
    if len(positions) == 1:
        return (values[positions[0]],)
    return itemgetter(*positions)(values) if positions else ()
