"""Shape checks on a problem, run at every entry point before any arithmetic.

Each check names the field by its path from the argument the caller passed
(``households[3].members[0].age``), so an API can map the error back to a request field.
"""

import math
from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from optimiser.enums import (
    AccessFeature,
    Gender,
    GenderPolicy,
    PerpetratorCondition,
    RiskLevel,
    SchemeType,
    SpaceNeed,
    Specialism,
    Support,
)
from optimiser.errors import ProblemError
from optimiser.problem import (
    Household,
    Point,
    Problem,
    Protocol,
    RehousingOption,
    Unit,
    Weights,
)

MAX_AGE = 120


def _text(value: object, field: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ProblemError(field, "must be a non-empty string")


def _finite(value: object, field: str, minimum: float = 0.0) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProblemError(field, "must be a number")
    if not math.isfinite(value):
        raise ProblemError(field, "must be finite")
    if value < minimum:
        raise ProblemError(field, f"must be at least {minimum:g}")


def _integer(value: object, field: str, minimum: int, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProblemError(field, "must be an integer")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ProblemError(field, f"must be {bound}")


def _flag(value: object, field: str) -> None:
    if not isinstance(value, bool):
        raise ProblemError(field, "must be true or false")


def _date(value: object, field: str) -> None:
    if not isinstance(value, date):
        raise ProblemError(field, "must be a date")


def _member_of(value: object, vocabulary: type[StrEnum], field: str) -> None:
    if value not in vocabulary._value2member_map_:
        allowed = ", ".join(vocabulary._value2member_map_)
        raise ProblemError(field, f"unknown value {value!r}; expected one of {allowed}")


def _set_of(values: object, vocabulary: type[StrEnum], field: str) -> None:
    if not isinstance(values, frozenset):
        raise ProblemError(field, "must be a frozenset")
    if values <= vocabulary._value2member_map_.keys():
        return  # all known: the sorted walk below is for naming the first unknown one
    for value in sorted(values, key=str):
        _member_of(value, vocabulary, field)


def _texts(values: Iterable[object], field: str) -> None:
    for value in values:
        _text(value, field)


def _point(point: object, field: str) -> None:
    if not isinstance(point, Point):
        raise ProblemError(field, "must be a Point")
    lat, lon = point.lat, point.lon
    if (
        type(lat) is float
        and type(lon) is float
        and -90.0 <= lat <= 90.0
        and -180.0 <= lon <= 180.0
    ):
        return  # in range, so finite: every check below passes (and costs a call each)
    _finite(point.lat, f"{field}.lat", minimum=-math.inf)
    _finite(point.lon, f"{field}.lon", minimum=-math.inf)
    if not -90.0 <= point.lat <= 90.0:
        raise ProblemError(f"{field}.lat", "latitude must be between -90 and 90")
    if not -180.0 <= point.lon <= 180.0:
        raise ProblemError(f"{field}.lon", "longitude must be between -180 and 180")


def validate_household(household: Household, field: str = "household") -> None:
    h = household
    _text(h.id, f"{field}.id")
    _text(h.authority_code, f"{field}.authority_code")
    if not h.members:
        raise ProblemError(f"{field}.members", "a household needs at least one member")
    for i, member in enumerate(h.members):
        at = f"{field}.members[{i}]"
        _integer(member.age, f"{at}.age", 0, MAX_AGE)
        _member_of(member.gender, Gender, f"{at}.gender")
        _set_of(member.access_needs, AccessFeature, f"{at}.access_needs")
    _date(h.needed_by, f"{field}.needed_by")
    _member_of(h.risk_level, RiskLevel, f"{field}.risk_level")
    for name in (
        "nrpf",
        "pets",
        "language_essential",
        "support_essential",
        "keep_school",
        "perpetrator_move_possible",
    ):
        _flag(getattr(h, name), f"{field}.{name}")
    if h.space_need is not None:
        _member_of(h.space_need, SpaceNeed, f"{field}.space_need")
    _texts(h.languages, f"{field}.languages")
    if h.language_essential and not h.languages:
        raise ProblemError(f"{field}.languages", "an essential language must be named")
    _set_of(h.support_needs, Support, f"{field}.support_needs")
    for i, zone in enumerate(h.perpetrator_zones):
        _point(zone.point, f"{field}.perpetrator_zones[{i}].point")
        _finite(zone.radius_km, f"{field}.perpetrator_zones[{i}].radius_km")
    _texts(h.avoid_authorities, f"{field}.avoid_authorities")
    for i, point in enumerate(h.stay_near):
        _point(point, f"{field}.stay_near[{i}]")
    for i, point in enumerate(h.schools):
        _point(point, f"{field}.schools[{i}]")
    if h.home is not None:
        _point(h.home, f"{field}.home")
    if h.perpetrator_ref is not None:
        _text(h.perpetrator_ref, f"{field}.perpetrator_ref")
    _set_of(h.perpetrator_conditions, PerpetratorCondition, f"{field}.perpetrator_conditions")
    _integer(h.days_waiting, f"{field}.days_waiting", 0)
    _set_of(h.preferred_specialisms, Specialism, f"{field}.preferred_specialisms")


def validate_unit(unit: Unit, field: str = "unit") -> None:
    u = unit
    for name in ("id", "scheme_id", "provider_id", "authority_code"):
        _text(getattr(u, name), f"{field}.{name}")
    _member_of(u.scheme_type, SchemeType, f"{field}.scheme_type")
    if u.self_contained is not None:
        _flag(u.self_contained, f"{field}.self_contained")
    _point(u.location, f"{field}.location")
    _integer(u.bedrooms, f"{field}.bedrooms", 1)
    _integer(u.bed_spaces, f"{field}.bed_spaces", 1)
    _integer(u.cots, f"{field}.cots", 0)
    _set_of(u.access_features, AccessFeature, f"{field}.access_features")
    _date(u.available_from, f"{field}.available_from")
    _member_of(u.gender_policy, GenderPolicy, f"{field}.gender_policy")
    if u.max_boy_age is not None:
        _integer(u.max_boy_age, f"{field}.max_boy_age", 0, MAX_AGE)
    _member_of(u.max_risk_level, RiskLevel, f"{field}.max_risk_level")
    _flag(u.accepts_nrpf, f"{field}.accepts_nrpf")
    _flag(u.accepts_pets, f"{field}.accepts_pets")
    _texts(u.languages, f"{field}.languages")
    _set_of(u.support, Support, f"{field}.support")
    _set_of(u.specialisms, Specialism, f"{field}.specialisms")
    _finite(u.weekly_cost, f"{field}.weekly_cost")


def validate_units(units: Iterable[Unit], field: str = "units") -> None:
    seen: set[str] = set()
    for i, unit in enumerate(units):
        validate_unit(unit, f"{field}[{i}]")
        if unit.id in seen:
            raise ProblemError(f"{field}[{i}].id", f"duplicate unit id {unit.id!r}")
        seen.add(unit.id)


def validate_protocol(protocol: Protocol, field: str = "protocol") -> None:
    p = protocol
    _text(p.id, f"{field}.id")
    if len(p.members) < 2:
        raise ProblemError(f"{field}.members", "a protocol needs at least two authorities")
    _texts(p.members, f"{field}.members")
    if p.balance_cap is not None:
        _integer(p.balance_cap, f"{field}.balance_cap", 0)
    for code, balance in p.balances.items():
        if code not in p.members:
            raise ProblemError(f"{field}.balances[{code!r}]", "authority is not a member")
        _integer(balance, f"{field}.balances[{code!r}]", -(2**31), 2**31)


def validate_protocols(protocols: Iterable[Protocol], field: str = "protocols") -> None:
    seen: set[str] = set()
    for i, protocol in enumerate(protocols):
        validate_protocol(protocol, f"{field}[{i}]")
        if protocol.id in seen:
            raise ProblemError(f"{field}[{i}].id", f"duplicate protocol id {protocol.id!r}")
        seen.add(protocol.id)


def validate_rehousing_option(option: RehousingOption, field: str = "option") -> None:
    _text(option.id, f"{field}.id")
    _text(option.authority_code, f"{field}.authority_code")
    _point(option.location, f"{field}.location")
    _date(option.available_from, f"{field}.available_from")
    _member_of(option.max_risk_level, RiskLevel, f"{field}.max_risk_level")
    _set_of(option.accepts_conditions, PerpetratorCondition, f"{field}.accepts_conditions")
    _finite(option.weekly_cost, f"{field}.weekly_cost")


def validate_rehousing_options(
    options: Iterable[RehousingOption], field: str = "rehousing_options"
) -> None:
    seen: set[str] = set()
    for i, option in enumerate(options):
        validate_rehousing_option(option, f"{field}[{i}]")
        if option.id in seen:
            raise ProblemError(f"{field}[{i}].id", f"duplicate option id {option.id!r}")
        seen.add(option.id)


_SCALES = ("school_scale_km", "near_scale_km", "perpetrator_scale_km", "cost_scale")
MAX_WEIGHT = 100.0
"""Weights are relative; one above this is a unit mistake (pence for pounds), and capping
them keeps every solver integer far from overflow."""


_VALID_WEIGHTS: dict[int, Weights] = {}
"""Weights objects already found valid, by identity (held here, so an id is never reused
while it is a key): a service passes the same one on every call, and frozen, it cannot
have changed. By identity, not equality: `Weights(cost=True)` equals `Weights(cost=1.0)`
but is not valid."""
VALID_WEIGHTS_KEPT = 64


def validate_weights(weights: Weights, field: str = "weights") -> None:
    if not isinstance(weights, Weights):
        raise ProblemError(field, "must be a Weights")
    if _VALID_WEIGHTS.get(id(weights)) is weights:
        return
    _check_weights(weights, field)
    if len(_VALID_WEIGHTS) < VALID_WEIGHTS_KEPT:
        _VALID_WEIGHTS[id(weights)] = weights


def _check_weights(weights: Weights, field: str) -> None:
    for name in Weights.__dataclass_fields__:
        _finite(getattr(weights, name), f"{field}.{name}")
        if (
            name not in _SCALES
            and name != "min_perpetrator_distance_km"
            and (getattr(weights, name) > MAX_WEIGHT)
        ):
            raise ProblemError(f"{field}.{name}", f"a weight must be at most {MAX_WEIGHT:g}")
    for name in _SCALES:
        if getattr(weights, name) <= 0:
            raise ProblemError(f"{field}.{name}", "a scale must be greater than 0")


def validate_problem(problem: Problem) -> None:
    _date(problem.as_of, "as_of")
    validate_weights(problem.weights)
    validate_units(problem.units)
    validate_protocols(problem.protocols)
    validate_rehousing_options(problem.rehousing_options)
    seen: set[str] = set()
    for i, household in enumerate(problem.households):
        validate_household(household, f"households[{i}]")
        if household.id in seen:
            raise ProblemError(f"households[{i}].id", f"duplicate household id {household.id!r}")
        seen.add(household.id)
