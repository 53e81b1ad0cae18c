"""Synthetic instances for the benchmark, in the regime that matters: scarcity.

Units are a register of schemes across a set of authorities grouped in regions; most
units are occupied and free only in weeks or months, so the units free by the time a
household needs one are fewer than the households, and many of those do not suit. Every
instance is a pure function of its size and seed.
"""

from dataclasses import dataclass, replace
from datetime import date, timedelta
from types import MappingProxyType

import numpy as np

from optimiser.enums import AccessFeature, PerpetratorCondition, Specialism, Support
from optimiser.problem import (
    Household,
    Member,
    Point,
    Problem,
    Protocol,
    RehousingOption,
    Unit,
    Zone,
)

AS_OF = date(2025, 3, 3)
KM_PER_DEGREE_LAT = 111.0


@dataclass(frozen=True, slots=True)
class Size:
    name: str
    households: int
    units: int
    regions: int
    authorities_per_region: int
    rehousing_options: int
    balance_cap: int | None
    linked_share: float
    """Share of households linked to another by the same perpetrator."""
    vacancy: float
    """Share of units free today; the rest free in two weeks to seven months."""


SIZES = {
    "small": Size("small", 50, 500, 1, 6, 5, None, 0.1, 0.02),
    "regional": Size("regional", 300, 2_000, 1, 10, 15, 2, 0.1, 0.07),
    "national": Size("national", 2_000, 10_000, 15, 10, 60, 2, 0.1, 0.07),
    "national_x2.5": Size("national_x2.5", 5_000, 25_000, 15, 10, 150, 2, 0.1, 0.07),
    "national_x5": Size("national_x5", 10_000, 50_000, 15, 10, 300, 2, 0.1, 0.07),
}
"""The national sizes scale households, units and rehousing options together on the same
geography (15 regions of 10 authorities): a national panel the batch policy may face."""

LANGUAGES = ("ur", "pa", "bn", "pl", "ar", "so", "ro", "bsl")


def _offset(rng: np.random.Generator, centre: Point, km: float) -> Point:
    dy, dx = rng.normal(0.0, km, 2)
    lat = centre.lat + dy / KM_PER_DEGREE_LAT
    lon = centre.lon + dx / (KM_PER_DEGREE_LAT * np.cos(np.radians(centre.lat)))
    return Point(round(float(lat), 5), round(float(lon), 5))


def _pick(rng: np.random.Generator, values: tuple[str, ...], k: int) -> frozenset[str]:
    return frozenset(str(v) for v in rng.choice(values, size=k, replace=False))


class _Builder:
    def __init__(self, size: Size, seed: int) -> None:
        self.size = size
        self.rng = np.random.default_rng(seed)
        self.region_centres = [
            Point(float(self.rng.uniform(50.8, 54.8)), float(self.rng.uniform(-3.0, 0.5)))
            for _ in range(size.regions)
        ]
        self.authorities: list[str] = []
        self.region_of: dict[str, int] = {}
        self.centre: dict[str, Point] = {}
        for r, centre in enumerate(self.region_centres):
            for a in range(size.authorities_per_region):
                code = f"E{r:02d}{a:04d}"
                self.authorities.append(code)
                self.region_of[code] = r
                self.centre[code] = _offset(self.rng, centre, 20.0)

    def protocols(self) -> tuple[Protocol, ...]:
        rng, size = self.rng, self.size
        out = []
        for r in range(size.regions):
            members = frozenset(a for a in self.authorities if self.region_of[a] == r)
            balances = {}
            if size.balance_cap is not None:
                balances = {
                    a: int(rng.integers(-size.balance_cap, size.balance_cap + 1))
                    for a in sorted(members)
                }
            out.append(
                Protocol(
                    id=f"group-{r:02d}",
                    members=members,
                    balance_cap=size.balance_cap,
                    balances=MappingProxyType(balances),
                )
            )
        for r in range(size.regions - 1):
            a = self.authorities[r * size.authorities_per_region]
            b = self.authorities[(r + 1) * size.authorities_per_region + 1]
            out.append(
                Protocol(
                    id=f"reciprocal-{r:02d}",
                    members=frozenset({a, b}),
                    balance_cap=1,
                    balances=MappingProxyType({}),
                )
            )
        return tuple(out)

    def units(self) -> tuple[Unit, ...]:
        rng, size = self.rng, self.size
        units: list[Unit] = []
        s = 0
        while len(units) < size.units:
            authority = self.authorities[int(rng.integers(len(self.authorities)))]
            kind = rng.choice(
                [
                    "refuge",
                    "dispersed_accommodation",
                    "specialist_safe_accommodation",
                    "second_stage_accommodation",
                ],
                p=[0.55, 0.2, 0.15, 0.1],
            )
            policy = {
                "refuge": "women_only",
                "dispersed_accommodation": "any_gender",
                "second_stage_accommodation": "any_gender",
            }.get(str(kind))
            specialisms: frozenset[str] = frozenset()
            languages: frozenset[str] = frozenset()
            if policy is None:
                special = str(rng.choice(["by_and_for", "lgbtq", "male_victims", "deaf_bsl"]))
                specialisms = frozenset({special})
                policy = {
                    "lgbtq": "lgbtq_specialist",
                    "male_victims": "men_only",
                    "by_and_for": "women_only",
                }.get(special, "any_gender")
                if special == "by_and_for":
                    languages = _pick(rng, LANGUAGES[:6], 2)
                if special == "deaf_bsl":
                    languages = frozenset({"bsl"})
            elif rng.random() < 0.2:
                languages = _pick(rng, LANGUAGES, 1)
            location = _offset(rng, self.centre[authority], 6.0)
            scheme = dict(
                scheme_id=f"s{s:05d}",
                provider_id=f"p{s // 4:04d}",
                authority_code=authority,
                scheme_type=str(kind),
                gender_policy=policy,
                max_boy_age=(int(rng.choice([11, 13, 15, 17])) if policy == "women_only" else None),
                max_risk_level=str(rng.choice(["medium", "high"], p=[0.3, 0.7])),
                accepts_nrpf=bool(rng.random() < 0.3),
                accepts_pets=bool(rng.random() < 0.15),
                languages=languages,
                support=_pick(rng, tuple(Support), int(rng.integers(0, 3))),
                specialisms=specialisms,
            )
            s += 1
            n_units = int(rng.integers(4, 12)) if kind == "refuge" else int(rng.integers(1, 6))
            room_types = [
                (
                    int(b),
                    int(b) + int(rng.integers(0, 3)),
                    int(rng.integers(0, 2)),
                    _pick(rng, tuple(AccessFeature), int(rng.choice([0, 0, 1, 2]))),
                    float(rng.choice([350.0, 450.0, 600.0, 800.0])),
                )
                for b in rng.choice([1, 1, 2, 3], size=int(rng.integers(1, 3)))
            ]
            for _ in range(min(n_units, size.units - len(units))):
                bedrooms, beds, cots, access, cost = room_types[int(rng.integers(len(room_types)))]
                free_in = 0 if rng.random() < size.vacancy else int(rng.integers(14, 200))
                where = (
                    location
                    if kind != "dispersed_accommodation"
                    else _offset(rng, self.centre[authority], 6.0)
                )
                units.append(
                    Unit(
                        id=f"u{len(units):06d}",
                        location=where,
                        bedrooms=bedrooms,
                        bed_spaces=beds,
                        cots=cots,
                        access_features=access,
                        available_from=AS_OF + timedelta(days=free_in),
                        weekly_cost=cost,
                        **scheme,  # type: ignore[arg-type]
                    )
                )
        return tuple(units)

    def members(self) -> tuple[Member, ...]:
        rng = self.rng
        lead_gender = str(rng.choice(["female", "male", "non_binary"], p=[0.85, 0.1, 0.05]))
        needs = _pick(rng, tuple(AccessFeature), 1) if rng.random() < 0.08 else frozenset()
        out = [Member(int(rng.integers(18, 70)), lead_gender, needs)]
        if rng.random() < 0.08:
            out.append(Member(int(rng.integers(18, 25)), str(rng.choice(["female", "male"]))))
        for _ in range(int(rng.choice([0, 1, 2, 3, 4], p=[0.4, 0.25, 0.2, 0.1, 0.05]))):
            out.append(Member(int(rng.integers(0, 18)), str(rng.choice(["female", "male"]))))
        return tuple(out)

    def households(self) -> tuple[Household, ...]:
        rng, size = self.rng, self.size
        out: list[Household] = []
        refs: list[str | None] = [None] * size.households
        linked = rng.choice(
            size.households, int(size.households * size.linked_share), replace=False
        )
        for pair, i in enumerate(linked):
            refs[int(i)] = f"perp-{pair // 2:05d}"
        for i in range(size.households):
            authority = self.authorities[int(rng.integers(len(self.authorities)))]
            home = _offset(rng, self.centre[authority], 5.0)
            members = self.members()
            children = [m for m in members if not m.is_adult]
            lead_female = members[0].gender == "female"
            space_need = None
            if lead_female and rng.random() < 0.3:
                space_need = "women_only"
            elif rng.random() < 0.03:
                space_need = "lgbtq_specialist"
            zones = [Zone(_offset(rng, home, 2.0), float(rng.uniform(3.0, 12.0)))]
            if rng.random() < 0.3:
                zones.append(
                    Zone(_offset(rng, self.centre[authority], 15.0), float(rng.uniform(2.0, 8.0)))
                )
            languages: tuple[str, ...] = ()
            if rng.random() < 0.15:
                languages = (str(rng.choice(LANGUAGES)), "en")
            support = _pick(rng, tuple(Support), 1) if rng.random() < 0.3 else frozenset()
            move = bool(rng.random() < 0.15)
            out.append(
                Household(
                    id=f"h{i:05d}",
                    authority_code=authority,
                    members=members,
                    needed_by=AS_OF + timedelta(days=int(rng.integers(0, 21))),
                    risk_level=str(rng.choice(["standard", "medium", "high"], p=[0.4, 0.35, 0.25])),
                    nrpf=bool(rng.random() < 0.1),
                    pets=bool(rng.random() < 0.05),
                    space_need=space_need,
                    languages=languages,
                    language_essential=bool(languages) and bool(rng.random() < 0.5),
                    support_needs=support,
                    support_essential=bool(support) and rng.random() < 0.5,
                    perpetrator_zones=tuple(zones),
                    avoid_authorities=frozenset({authority}) if rng.random() < 0.4 else frozenset(),
                    stay_near=(_offset(rng, home, 15.0),) if rng.random() < 0.4 else (),
                    schools=tuple(_offset(rng, home, 3.0) for _ in children[:1]),
                    keep_school=bool(children) and rng.random() < 0.4,
                    home=home,
                    perpetrator_ref=refs[i],
                    perpetrator_move_possible=move,
                    perpetrator_conditions=(
                        _pick(rng, tuple(PerpetratorCondition), 1)
                        if move and rng.random() < 0.5
                        else frozenset()
                    ),
                    days_waiting=int(rng.integers(0, 120)),
                    preferred_specialisms=(
                        _pick(rng, tuple(Specialism), 1) if rng.random() < 0.2 else frozenset()
                    ),
                )
            )
        return tuple(out)

    def rehousing_options(self) -> tuple[RehousingOption, ...]:
        rng = self.rng
        out = []
        for i in range(self.size.rehousing_options):
            authority = self.authorities[int(rng.integers(len(self.authorities)))]
            out.append(
                RehousingOption(
                    id=f"r{i:04d}",
                    authority_code=authority,
                    location=_offset(rng, self.centre[authority], 10.0),
                    available_from=AS_OF + timedelta(days=int(rng.choice([0, 0, 30]))),
                    max_risk_level=str(rng.choice(["medium", "high"])),
                    accepts_conditions=_pick(
                        rng, tuple(PerpetratorCondition), int(rng.integers(1, 4))
                    ),
                    weekly_cost=float(rng.choice([250.0, 400.0])),
                )
            )
        return tuple(out)


def instance(name: str, seed: int = 1, *, units: int | None = None) -> Problem:
    """The instance of a named size; ``units`` replaces its count of units (to time
    matching over a larger register on the same geography)."""
    size = SIZES[name] if units is None else replace(SIZES[name], units=units)
    builder = _Builder(size, seed)
    return Problem(
        households=builder.households(),
        units=builder.units(),
        protocols=builder.protocols(),
        rehousing_options=builder.rehousing_options(),
        as_of=AS_OF,
    )
