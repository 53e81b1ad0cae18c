"""The optimiser's input: plain frozen records, no behaviour.

Sets of wire values are ``frozenset[str]`` and sequences are tuples so that every record
is hashable and can be shared between requests without copying. Enum-typed fields accept
the :mod:`optimiser.enums` members or their plain string values; :mod:`optimiser.validation`
rejects anything else with the field named.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

ADULT_AGE = 18


@dataclass(frozen=True, slots=True)
class Point:
    """WGS84 degrees."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Zone:
    """A perpetrator's known location: units within ``radius_km`` of it are ruled out."""

    point: Point
    radius_km: float


@dataclass(frozen=True, slots=True)
class Member:
    age: int
    gender: str
    access_needs: frozenset[str] = frozenset()

    @property
    def is_adult(self) -> bool:
        return self.age >= ADULT_AGE


@dataclass(frozen=True, slots=True, kw_only=True)
class Household:
    """One referral. Keyword-only, and only ``id``, ``authority_code``, ``members`` and
    ``needed_by`` lack defaults, so a caller names just what matters to it."""

    id: str
    authority_code: str
    members: tuple[Member, ...]
    needed_by: date
    risk_level: str = "standard"
    nrpf: bool = False
    pets: bool = False
    space_need: str | None = None
    languages: tuple[str, ...] = ()
    language_essential: bool = False
    support_needs: frozenset[str] = frozenset()
    support_essential: bool = False
    perpetrator_zones: tuple[Zone, ...] = ()
    avoid_authorities: frozenset[str] = frozenset()
    stay_near: tuple[Point, ...] = ()
    schools: tuple[Point, ...] = ()
    keep_school: bool = False
    home: Point | None = None
    perpetrator_ref: str | None = None
    perpetrator_move_possible: bool = False
    perpetrator_conditions: frozenset[str] = frozenset()
    days_waiting: int = 0
    preferred_specialisms: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Unit:
    """A room, flat or house, carrying its scheme's policy so that a unit is checked alone."""

    id: str
    scheme_id: str
    provider_id: str
    authority_code: str
    location: Point
    bedrooms: int
    bed_spaces: int
    available_from: date
    scheme_type: str = "refuge"
    self_contained: bool | None = None
    """Whether the bedroom standard applies (a home of the household's own); None: as
    its scheme type has it, see :data:`optimiser.composition.SELF_CONTAINED_TYPES`."""
    cots: int = 0
    access_features: frozenset[str] = frozenset()
    gender_policy: str = "any_gender"
    max_boy_age: int | None = None
    max_risk_level: str = "high"
    accepts_nrpf: bool = False
    accepts_pets: bool = False
    languages: frozenset[str] = frozenset()
    support: frozenset[str] = frozenset()
    specialisms: frozenset[str] = frozenset()
    weekly_cost: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Protocol:
    """A cross-border agreement: any member may place into any other member.

    ``balance_cap`` limits how many more households a member may send than it receives in
    the current period; ``balances`` holds each member's net sent-minus-received so far
    (members not listed are at zero).
    """

    id: str
    members: frozenset[str]
    balance_cap: int | None = None
    balances: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def balance(self, authority_code: str) -> int:
        return self.balances.get(authority_code, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class RehousingOption:
    """Accommodation for a perpetrator, so that the victim and children can stay at home."""

    id: str
    authority_code: str
    location: Point
    available_from: date
    max_risk_level: str = "high"
    accepts_conditions: frozenset[str] = frozenset()
    weekly_cost: float = 0.0


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each soft aim counts. Every part of a score is its weight times a fit in
    [0, 1], so a weight reads as "worth this many points at best". Weights lie between 0
    and 100; scales and the minimum distance are positive.

    Priority (who is placed first) is kept apart from quality (where they are placed): the
    allocator maximises priority-weighted placements before any quality part counts, so
    no quality weight, however large, can cost a household its place.
    """

    school: float = 3.0
    """Children's travel to their current school, when the family wants to keep it; full
    marks at the school, none at ``school_scale_km`` or beyond (the farthest school counts)."""
    perpetrator_distance: float = 1.0
    """Distance from the nearest perpetrator location beyond its exclusion radius; full
    marks at ``perpetrator_scale_km`` beyond it."""
    near: float = 1.0
    """Nearness to the closest place the household named (support network, work)."""
    specialist: float = 1.0
    """Specialist fit: preferred provider specialisms, spoken language, support offered."""
    cost: float = 0.5
    """Cheapness to the funding authority: full marks free, none at ``cost_scale``."""
    cross_border: float = 0.5
    """Staying in the referring authority, which spends no reciprocal balance."""
    perpetrator_move: float = 2.0
    """Preference for moving the perpetrator so that the victim and children stay home."""
    priority_risk: float = 1.0
    """Priority added per risk step above standard."""
    priority_children: float = 0.5
    """Priority added per child in the household."""
    priority_waiting: float = 0.05
    """Priority added per week waited, counted up to a year."""
    school_scale_km: float = 20.0
    near_scale_km: float = 20.0
    perpetrator_scale_km: float = 100.0
    cost_scale: float = 1500.0
    min_perpetrator_distance_km: float = 40.0
    """A perpetrator's new home must be at least this far from the victim's home, the
    children's schools and the victim's named places: beyond an everyday journey in most
    of England, so that a chance meeting is unlikely."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    households: tuple[Household, ...]
    units: tuple[Unit, ...]
    protocols: tuple[Protocol, ...] = ()
    rehousing_options: tuple[RehousingOption, ...] = ()
    weights: Weights = Weights()
    as_of: date
