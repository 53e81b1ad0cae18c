"""What the officer's pages call things: the domain's vocabularies in words, and times.

People read words, not codes (DESIGN.md): every enum value a page shows or offers as a
choice is named here once, so the form's choices and the pages' tables agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import StrEnum

from placement.enums import (
    AccessFeature,
    AllocationScope,
    Gender,
    OfferStatus,
    PerpetratorCondition,
    ReferralStatus,
    RiskLevel,
    SpaceNeed,
    Specialism,
    Support,
)
from placement.matching.results import rule_words

RISK: dict[str, str] = {
    RiskLevel.STANDARD: "Standard",
    RiskLevel.MEDIUM: "Medium",
    RiskLevel.HIGH: "High",
}
GENDER: dict[str, str] = {
    Gender.FEMALE: "Female",
    Gender.MALE: "Male",
    Gender.NON_BINARY: "Non-binary",
}
ACCESS: dict[str, str] = {
    AccessFeature.STEP_FREE: "Step-free access",
    AccessFeature.WHEELCHAIR: "Wheelchair accessible",
    AccessFeature.GROUND_FLOOR: "Ground floor",
    AccessFeature.ADAPTED_BATHROOM: "Adapted bathroom",
}
SUPPORT: dict[str, str] = {
    Support.SUBSTANCE_USE: "Substance use",
    Support.MENTAL_HEALTH: "Mental health",
    Support.COMPLEX_NEEDS: "Complex needs",
}
SPACE: dict[str, str] = {
    SpaceNeed.WOMEN_ONLY: "A women-only space",
    SpaceNeed.LGBTQ_SPECIALIST: "An LGBTQ+ specialist space",
}
SPECIALISM: dict[str, str] = {
    Specialism.BY_AND_FOR: "By-and-for service (led by and for minoritised communities)",
    Specialism.LGBTQ: "LGBTQ+",
    Specialism.DEAF_BSL: "Deaf and BSL users",
    Specialism.MALE_VICTIMS: "Male victims",
    Specialism.OLDER_VICTIMS: "Older victims",
    Specialism.YOUNG_PEOPLE: "Young people",
}
CONDITION: dict[str, str] = {
    PerpetratorCondition.DVPN: "Domestic violence protection notice (DVPN)",
    PerpetratorCondition.DVPO: "Domestic violence protection order (DVPO)",
    PerpetratorCondition.BAIL: "Bail conditions",
    PerpetratorCondition.PROBATION: "Probation",
}
LANGUAGES: dict[str, str] = {
    "ar": "Arabic",
    "bn": "Bengali",
    "en": "English",
    "fa": "Persian (Farsi)",
    "gu": "Gujarati",
    "ku": "Kurdish",
    "pa": "Punjabi",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "so": "Somali",
    "ta": "Tamil",
    "ti": "Tigrinya",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
}
"""The languages offered as checkboxes (ISO 639 codes, as the household stores them)."""
REFERRAL_STATUS: dict[str, str] = {
    ReferralStatus.OPEN: "Waiting",
    ReferralStatus.PLACED: "Placed",
    ReferralStatus.CLOSED: "Closed",
}
OFFER_STATUS: dict[str, str] = {
    OfferStatus.LIVE: "Live",
    OfferStatus.ACCEPTED: "Accepted",
    OfferStatus.DECLINED: "Declined",
    OfferStatus.EXPIRED: "Expired",
    OfferStatus.WITHDRAWN: "Withdrawn",
}
SCOPE: dict[str, str] = {
    AllocationScope.AUTHORITY: "My authority's open referrals",
    AllocationScope.GROUP: "Every open referral in my authority's group, as a joint panel",
    AllocationScope.REGION: "Every open referral in my authority's region, as a joint panel",
}
PARTS: dict[str, str] = {
    "school": "Near the children's schools",
    "perpetrator_distance": "Far from the perpetrator's places",
    "near": "Near the places the household named",
    "specialist": "Specialist fit (specialisms, language, support)",
    "cost": "Cost to the funding authority",
    "cross_border": "Stays in your authority",
    "perpetrator_move": "Household stays home (the perpetrator moves)",
}
"""Score parts in words; a part without an entry is shown with its name made readable."""


def choices(names: dict[str, str]) -> list[tuple[str, str]]:
    return [(str(value), text) for value, text in names.items()]


def named(names: dict[str, str], value: str | StrEnum | None) -> str:
    """A value in words (its own text, made readable, if it has none here)."""
    if value is None:
        return ""
    return names.get(str(value), str(value).replace("_", " ").capitalize())


def part_name(part: str) -> str:
    return named(PARTS, part)


def rules_in_words(reasons: Iterable[str]) -> list[str]:
    """Matcher rule codes in words (`placement.matching.results.rule_words`)."""
    return [rule_words(r) for r in reasons]


def days_waiting(referred_on: date, today: date | None = None) -> str:
    days = ((today or date.today()) - referred_on).days
    return "referred today" if days <= 0 else f"{days} day" + ("" if days == 1 else "s")


def time_left(expires_at: datetime, now: datetime | None = None) -> str:
    """An offer's hold, as people say it: "1 day 3 hours", "40 minutes", "expired"."""
    expires = expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC)
    seconds = int((expires - (now or datetime.now(UTC))).total_seconds())
    if seconds <= 0:
        return "expired"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (minutes, "minute")]
    shown = [f"{n} {unit}" + ("" if n == 1 else "s") for n, unit in parts if n]
    return " ".join(shown) or "under a minute"


def when(moment: datetime | None) -> str:
    """A date and time as people read it: "2 December 2026, 13:45 (UTC)"."""
    if moment is None:
        return ""
    at = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%-d %B %Y, %H:%M (UTC)")


def on(day: date | None) -> str:
    return "" if day is None else day.strftime("%-d %B %Y")
