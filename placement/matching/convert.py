"""Records as the optimiser takes them: households, units and rehousing options.

The optimiser imports nothing of ours; this module is the one place that knows both
sides, so a new field of a record reaches the matcher here or not at all.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import date
from typing import Protocol

import optimiser
from placement.enums import RiskLevel
from placement.households import Household
from placement.matching.keep_apart import UNLINKED, Links
from placement.models import RehousingOption, Scheme, Unit


class ReferralFacts(Protocol):
    """What matching reads of a referral: a `Referral` record, or a row of just these
    columns (a match request reads that, `loaders.MATCH_READ`: no ORM object to build)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def authority_code(self) -> str: ...

    @property
    def risk_level(self) -> RiskLevel: ...

    @property
    def perpetrator_ref(self) -> str | None: ...

    @property
    def referred_on(self) -> date: ...

    @property
    def details_ciphertext(self) -> bytes: ...


class Located(Protocol):
    """Any record with a point: a household's places, a rehousing option."""

    @property
    def latitude(self) -> float: ...

    @property
    def longitude(self) -> float: ...


def point(place: Located) -> optimiser.Point:
    return optimiser.Point(place.latitude, place.longitude)


def household(
    referral: ReferralFacts,
    document: Household,
    today: date | None = None,
    links: Links = UNLINKED,
) -> optimiser.Household:
    """The optimiser's view of a referral and its household; `links` says which other
    authorities' references name the same perpetrator (`keep_apart`)."""
    today = today or date.today()
    return optimiser.Household(
        id=str(referral.id),
        authority_code=referral.authority_code,
        members=tuple(
            optimiser.Member(age=m.age, gender=m.gender, access_needs=frozenset(m.access_needs))
            for m in document.members
        ),
        needed_by=document.needed_by or today,
        risk_level=str(referral.risk_level),
        nrpf=document.nrpf,
        pets=document.pets,
        space_need=document.space_need,
        languages=tuple(document.languages),
        language_essential=document.language_essential,
        support_needs=frozenset(document.support_needs),
        support_essential=document.support_essential,
        perpetrator_zones=tuple(
            optimiser.Zone(point(z), z.radius_km) for z in document.perpetrator_locations
        ),
        avoid_authorities=frozenset(document.avoid_authorities),
        stay_near=tuple(point(p) for p in document.stay_near),
        schools=tuple(point(m.school) for m in document.members if m.school),
        keep_school=document.keep_school,
        home=point(document.home) if document.home else None,
        perpetrator_ref=links.key(referral.authority_code, referral.perpetrator_ref),
        perpetrator_move_possible=document.perpetrator_move_possible,
        perpetrator_conditions=frozenset(document.perpetrator_conditions),
        days_waiting=max(0, (today - referral.referred_on).days),
        preferred_specialisms=frozenset(document.preferred_specialisms),
    )


class Converted:
    """Households as a match hands them to the optimiser, by what they are built from:
    a bounded LRU, shared by a worker's requests (officers match the same households
    over and over, and building one was 2.5% of a match request's CPU, sampled).

    The key is every referral fact `household` reads, the document's ciphertext (which
    determines the document: a changed household is a new ciphertext) and the day, so
    an entry is never stale. It saves only the building: the read, its access check and
    its audit event happen as before. The households are frozen, safe to share.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[object, ...], optimiser.Household] = OrderedDict()

    def household(
        self, referral: ReferralFacts, document: Household, today: date
    ) -> optimiser.Household:
        """`household(referral, document, today)`, unlinked (as a match reads it)."""
        key = (
            bytes(referral.details_ciphertext),
            referral.id,
            referral.authority_code,
            referral.risk_level,
            referral.perpetrator_ref,
            referral.referred_on,
            today,
        )
        built = self._entries.get(key)
        if built is not None:
            self._entries.move_to_end(key)
            return built
        built = self._entries[key] = household(referral, document, today)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return built


def unit(
    row: Unit,
    scheme: Scheme,
    specialisms: list[str],
    location: optimiser.Point,
    self_contained_types: frozenset[str],
) -> optimiser.Unit:
    """A unit with its scheme's policy and its provider's specialisms; `location` is the
    scheme's decrypted point; the bedroom standard applies to `self_contained_types`."""
    return optimiser.Unit(
        id=str(row.id),
        scheme_id=str(scheme.id),
        provider_id=str(scheme.provider_id),
        authority_code=scheme.authority_code,
        location=location,
        bedrooms=row.bedrooms,
        bed_spaces=row.bed_spaces,
        available_from=row.available_from,
        scheme_type=str(scheme.scheme_type),
        self_contained=scheme.scheme_type in self_contained_types,
        cots=row.cots,
        access_features=frozenset(row.access_features),
        gender_policy=str(scheme.gender_policy),
        max_boy_age=scheme.max_boy_age,
        max_risk_level=str(scheme.max_risk_level),
        accepts_nrpf=scheme.accepts_nrpf,
        accepts_pets=scheme.accepts_pets,
        languages=frozenset(scheme.languages),
        support=frozenset(scheme.support),
        specialisms=frozenset(specialisms),
        weekly_cost=float(scheme.weekly_cost),
    )


def rehousing_option(row: RehousingOption) -> optimiser.RehousingOption:
    return optimiser.RehousingOption(
        id=str(row.id),
        authority_code=row.authority_code,
        location=point(row),
        available_from=row.available_from,
        max_risk_level=str(row.max_risk_level),
        accepts_conditions=frozenset(row.accepts_conditions),
        weekly_cost=float(row.weekly_cost),
    )
