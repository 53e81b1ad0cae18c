"""The hard rules, each one vectorised expression over a :class:`UnitTable`.

A rule returns, for every unit, whether the unit BREAKS it (``True`` = ruled out), or
``None`` when it cannot break for this household (a household without pets breaks no pets
rule), which saves the work. :data:`HARD_RULES` lists them in explanation order.

Edges, decided once here:
- a unit exactly on a perpetrator location's radius is inside it (safety first);
- a boy exactly at the scheme's age limit is accepted;
- a unit is available in time if it is free by the household's ``needed_by`` date, or
  by ``as_of`` when that date has passed (a referral needed yesterday takes a unit free
  today);
- an essential language is met by a scheme offering any one of the household's
  languages; essential support only by a scheme offering every support need.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np

from optimiser.composition import Composition, composition
from optimiser.enums import RISK_RANK, AccessFeature, Gender, GenderPolicy, SpaceNeed, Support
from optimiser.geo import within_km
from optimiser.problem import Household
from optimiser.protocols import CheckedProtocols, Protocols, receivers, room
from optimiser.reasons import Reason
from optimiser.unit_table import GENDER_POLICIES, BoolArray, UnitTable, bits


def accepts_policy(policy: str, adult_genders: frozenset[str], space_need: str | None) -> bool:
    """Whether a scheme with ``policy`` takes a household, before any age limit for boys.

    Women-only takes households whose adults are all women; men-only those whose adults
    are all men (so a household with a non-binary adult goes to any-gender or, if it
    needs one, LGBTQ+ specialist schemes); any-gender takes everyone; an LGBTQ+
    specialist scheme only households that need an LGBTQ+ specialist space (its spaces
    are too few to give to anyone else). A household that needs a women-only or LGBTQ+
    space gets only that kind of scheme. Children's genders are the boys' age rule's
    business, not this one's.
    """
    if space_need == SpaceNeed.LGBTQ_SPECIALIST:
        return policy == GenderPolicy.LGBTQ_SPECIALIST
    if space_need == SpaceNeed.WOMEN_ONLY:
        return policy == GenderPolicy.WOMEN_ONLY and adult_genders <= {Gender.FEMALE}
    if policy == GenderPolicy.WOMEN_ONLY:
        return adult_genders <= {Gender.FEMALE}
    if policy == GenderPolicy.MEN_ONLY:
        return adult_genders <= {Gender.MALE}
    return policy == GenderPolicy.ANY_GENDER


@dataclass(frozen=True, slots=True)
class Request:
    """One household, prepared against one table: what every rule and score reads."""

    household: Household
    composition: Composition
    deadline: int
    """Ordinal of the last day the household can wait for a unit to become free."""
    in_zone: BoolArray | None
    """Per unit: within some perpetrator location's radius (None: the case names none)."""
    receivable: BoolArray
    """Per authority of the table: may receive this household under some protocol."""
    capped_out: BoolArray
    """Per authority of the table: the governing protocol has no room left."""
    linked_schemes: BoolArray
    """Per scheme of the table: a household with the same perpetrator is there."""

    @classmethod
    def build(
        cls,
        table: UnitTable,
        household: Household,
        protocols: Protocols,
        as_of: date,
        *,
        linked_schemes: frozenset[str] = frozenset(),
        apply_caps: bool = True,
    ) -> "Request":
        """``apply_caps=False`` leaves balance caps to the caller (the allocator, which
        counts what each authority sends and receives in the whole allocation). Checked
        ``protocols`` answer who may receive from their memo; a sequence is read afresh."""
        n_auth = len(table.authorities)
        receivable = np.zeros(n_auth, dtype=np.bool_)
        capped_out = np.zeros(n_auth, dtype=np.bool_)
        own = table.authority_index.get(household.authority_code)
        if own is not None:
            receivable[own] = True
        sender = household.authority_code
        by_receiver = (
            protocols.receivers(sender)
            if isinstance(protocols, CheckedProtocols)
            else receivers(protocols, sender)
        )
        for code, protocol in by_receiver.items():
            index = table.authority_index.get(code)
            if index is not None:
                receivable[index] = True
                capped_out[index] = apply_caps and room(protocol, household.authority_code) == 0
        linked = np.zeros(len(table.schemes), dtype=np.bool_)
        for scheme in linked_schemes:
            if scheme in table.scheme_index:
                linked[table.scheme_index[scheme]] = True
        return cls(
            household=household,
            composition=composition(household),
            deadline=max(household.needed_by, as_of).toordinal(),
            in_zone=_in_zone(table, household),
            receivable=receivable,
            capped_out=capped_out,
            linked_schemes=linked,
        )


Rule = Callable[[UnitTable, Request], BoolArray | None]


def capacity_bed_spaces(t: UnitTable, r: Request) -> BoolArray:
    c = r.composition
    if c.infants == 0:  # no cot to count (cots are never negative): one pass, not three
        return c.size > t.bed_spaces
    return c.size - np.minimum(c.infants, t.cots) > t.bed_spaces


def capacity_bedrooms(t: UnitTable, r: Request) -> BoolArray:
    """The bedroom standard, for self-contained units only: in a shared refuge room a
    family shares, and bed spaces decide."""
    return (r.composition.bedrooms > t.bedrooms) & t.self_contained


@lru_cache(maxsize=256)
def _policy_misfits(adult_genders: frozenset[str], space_need: str | None) -> BoolArray:
    """Per policy of :data:`GENDER_POLICIES`, whether it refuses such a household: kept,
    since the kinds of household are few and every match asks."""
    misfits = np.array(
        [not accepts_policy(p, adult_genders, space_need) for p in GENDER_POLICIES],
        dtype=np.bool_,
    )
    misfits.flags.writeable = False
    return misfits


def gender_policy(t: UnitTable, r: Request) -> BoolArray:
    return _policy_misfits(r.composition.adult_genders, r.household.space_need)[t.gender_policy]


def boy_age(t: UnitTable, r: Request) -> BoolArray | None:
    if r.composition.oldest_boy < 0:
        return None
    return r.composition.oldest_boy > t.max_boy_age


def access(t: UnitTable, r: Request) -> BoolArray | None:
    need = bits(AccessFeature, r.composition.access_needs)
    return None if need == 0 else (t.access & need) != need


def nrpf(t: UnitTable, r: Request) -> BoolArray | None:
    return ~t.accepts_nrpf if r.household.nrpf else None


def risk(t: UnitTable, r: Request) -> BoolArray:
    return RISK_RANK[r.household.risk_level] > t.max_risk


def _in_zone(t: UnitTable, household: Household) -> BoolArray | None:
    inside: BoolArray | None = None
    for zone in household.perpetrator_zones:
        here = within_km(zone.point, zone.radius_km, t.vectors, t.lat, t.lon, t.cos_lat)
        inside = here if inside is None else inside | here
    return inside


def exclusion_zone(t: UnitTable, r: Request) -> BoolArray | None:
    return r.in_zone


def avoid_authority(t: UnitTable, r: Request) -> BoolArray | None:
    avoided = [
        t.authority_index[a] for a in r.household.avoid_authorities if a in t.authority_index
    ]
    if not avoided:
        return None
    # A flag per authority, read per unit: `np.isin` sorted every unit's authority instead.
    flagged = np.zeros(len(t.authorities), dtype=np.bool_)
    flagged[avoided] = True
    return flagged[t.authority]


def protocol(t: UnitTable, r: Request) -> BoolArray:
    return (~r.receivable)[t.authority]  # inverted per authority, not per unit


def balance_cap(t: UnitTable, r: Request) -> BoolArray | None:
    return r.capped_out[t.authority] if r.capped_out.any() else None


def not_available_yet(t: UnitTable, r: Request) -> BoolArray:
    return t.available_from > r.deadline


def pets(t: UnitTable, r: Request) -> BoolArray | None:
    return ~t.accepts_pets if r.household.pets else None


def language(t: UnitTable, r: Request) -> BoolArray | None:
    if not r.household.language_essential:
        return None
    known = [t.language_index[lang] for lang in r.household.languages if lang in t.language_index]
    offered = np.asarray(t.offers_language[:, known].any(axis=1), dtype=np.bool_)
    return ~offered


def support(t: UnitTable, r: Request) -> BoolArray | None:
    need = bits(Support, r.household.support_needs)
    if not r.household.support_essential or need == 0:
        return None
    missing: BoolArray = (t.support & need) != need
    return missing


def keep_apart(t: UnitTable, r: Request) -> BoolArray | None:
    return r.linked_schemes[t.scheme] if r.linked_schemes.any() else None


HARD_RULES: tuple[tuple[Reason, Rule], ...] = (
    (Reason.CAPACITY_BED_SPACES, capacity_bed_spaces),
    (Reason.CAPACITY_BEDROOMS, capacity_bedrooms),
    (Reason.GENDER_POLICY, gender_policy),
    (Reason.BOY_AGE, boy_age),
    (Reason.ACCESS, access),
    (Reason.NRPF, nrpf),
    (Reason.RISK, risk),
    (Reason.EXCLUSION_ZONE, exclusion_zone),
    (Reason.AVOID_AUTHORITY, avoid_authority),
    (Reason.PROTOCOL, protocol),
    (Reason.BALANCE_CAP, balance_cap),
    (Reason.NOT_AVAILABLE_YET, not_available_yet),
    (Reason.PETS, pets),
    (Reason.LANGUAGE, language),
    (Reason.SUPPORT, support),
    (Reason.KEEP_APART, keep_apart),
)


def rule_matrix(table: UnitTable, request: Request) -> tuple[tuple[Reason, ...], BoolArray]:
    """The rules that can break for this household, in :data:`HARD_RULES` order, and a
    matrix with a row per rule of the units that break it.

    One matrix, so that what is counted per rule (units ruled out) and per unit (rules
    broken) is one reduction each rather than one small numpy call per rule.
    """
    reasons: list[Reason] = []
    masks: list[BoolArray] = []
    for reason, rule in HARD_RULES:
        mask = rule(table, request)
        if mask is not None:
            reasons.append(reason)
            masks.append(mask)
    if not masks:
        return (), np.zeros((0, len(table)), dtype=np.bool_)
    # One concatenation, reshaped: `np.stack` checks and reshapes each mask first, twice
    # the time for the same matrix.
    return tuple(reasons), np.concatenate(masks).reshape(len(masks), len(table))


def broken_rules(table: UnitTable, request: Request) -> list[tuple[Reason, BoolArray]]:
    """Every rule that at least one unit breaks, with the units that break it."""
    reasons, matrix = rule_matrix(table, request)
    broke: list[bool] = np.asarray(matrix.any(axis=1)).tolist()
    return [(reason, matrix[i]) for i, reason in enumerate(reasons) if broke[i]]


def feasible(table: UnitTable, request: Request) -> BoolArray:
    """The units that break no rule: one reduction over the rule matrix, where a mask per
    broken rule cost three numpy calls each, ten thousand times per allocation at five
    times national scale."""
    _, matrix = rule_matrix(table, request)
    ok: BoolArray = np.asarray(~matrix.any(axis=0), dtype=np.bool_)
    return ok
