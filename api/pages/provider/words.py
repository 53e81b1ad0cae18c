"""The words people see for the service's codes, on the provider's pages.

Every fixed list (statuses, reasons, outcomes, features, needs) is stored as a
snake_case code; a person reads it as a phrase. Most codes read well with their
underscores as spaces; the few that do not are spelt out here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum

from placement.enums import Gender
from placement.households import HouseholdNeeds, NeedsMember

SPELT_OUT = {
    "nrpf": "No recourse to public funds",
    "lgbtq_specialist": "LGBTQ+ specialist",
    "any_gender": "Any gender",
    "settled_social": "Moved to settled social housing",
    "settled_private": "Moved to settled private accommodation",
    "other_safe_accommodation": "Moved to other safe accommodation",
    "too_close_to_perpetrator": "Too close to the perpetrator",
    "funding_not_agreed": "Funding not agreed",
    "bsl": "British Sign Language",
}


def word(code: str | StrEnum | None) -> str:
    """The phrase for a code: "out_of_service" reads "Out of service"."""
    if code is None:
        return ""
    text = str(code)
    return SPELT_OUT.get(text, text.replace("_", " ").capitalize())


def words(codes: Iterable[str]) -> str:
    """Several codes as one phrase list, or "None" when there are none."""
    phrases = [word(code) for code in codes]
    return ", ".join(phrases) if phrases else "None"


def options(codes: Iterable[StrEnum], choose: str | None = None) -> list[tuple[str, str]]:
    """(value, text) pairs for a select or checkboxes; `choose` heads a select."""
    pairs = [(str(code), word(code)) for code in codes]
    return [("", choose), *pairs] if choose else pairs


def member(person: NeedsMember) -> str:
    """A household member as a provider may know them: "Boy, 9", "Woman, 31"."""
    adult = person.age >= 18
    who = {
        Gender.FEMALE: "Woman" if adult else "Girl",
        Gender.MALE: "Man" if adult else "Boy",
    }.get(person.gender, "Non-binary adult" if adult else "Non-binary child")
    needs = f" (needs: {words(person.access_needs).lower()})" if person.access_needs else ""
    return f"{who}, {person.age}{needs}"


def needs_rows(needs: HouseholdNeeds) -> list[tuple[str, str]]:
    """The household's needs as summary-list rows: make-up, risk and needs, no names."""

    def essential(flag: bool) -> str:
        return " (essential)" if flag else " (preferred)"

    languages = ", ".join(code.upper() for code in needs.languages)
    rows = [
        ("Household", "; ".join(member(person) for person in needs.members)),
        ("Risk level", word(needs.risk_level)),
        ("No recourse to public funds", "Yes" if needs.nrpf else "No"),
        ("Pets", "Yes" if needs.pets else "No"),
        ("Space needed", word(needs.space_need) or "No particular space"),
    ]
    if languages:
        rows.append(("Languages", languages + essential(needs.language_essential)))
    if needs.support_needs:
        rows.append(("Support", words(needs.support_needs) + essential(needs.support_essential)))
    return rows


def time_left(expires_at: datetime, now: datetime) -> str:
    """How long an offer has left, to the minute: "3 hours 5 minutes", "Expired"."""
    left = expires_at - now
    if left <= timedelta(0):
        return "Expired"
    minutes = int(left.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def day(value: date | None) -> str:
    """A date as people write it: "2 December 2026"."""
    return f"{value:%-d %B %Y}" if value is not None else ""
