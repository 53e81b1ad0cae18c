"""Stable reason codes for every hard rule, and the sentence an officer reads for each.

Codes are wire values: reports count referrals not placed by reason, so a code is never
renamed; a new rule gets a new code. The declaration order is the order in which
explanations list reasons.
"""

from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache


class Reason(StrEnum):
    CAPACITY_BED_SPACES = "capacity_bed_spaces"
    CAPACITY_BEDROOMS = "capacity_bedrooms"
    GENDER_POLICY = "gender_policy"
    BOY_AGE = "boy_age"
    ACCESS = "access"
    NRPF = "nrpf"
    RISK = "risk"
    EXCLUSION_ZONE = "exclusion_zone"
    AVOID_AUTHORITY = "avoid_authority"
    PROTOCOL = "protocol"
    BALANCE_CAP = "balance_cap"
    NOT_AVAILABLE_YET = "not_available_yet"
    PETS = "pets"
    LANGUAGE = "language"
    SUPPORT = "support"
    KEEP_APART = "keep_apart"
    PERPETRATOR_MOVE_NOT_POSSIBLE = "perpetrator_move_not_possible"
    CONDITIONS = "conditions"
    TOO_CLOSE = "too_close"

    @property
    def sentence(self) -> str:
        return SENTENCES[self]


SENTENCES: dict[Reason, str] = {
    Reason.CAPACITY_BED_SPACES: "There are too few bed spaces (counting cots for children "
    "under 2) for everyone in the household.",
    Reason.CAPACITY_BEDROOMS: "There are too few bedrooms for the household under the "
    "bedroom standard.",
    Reason.GENDER_POLICY: "The scheme's gender policy (women-only, men-only or LGBTQ+ "
    "specialist) does not fit the household, or the household needs a space this scheme "
    "is not.",
    Reason.BOY_AGE: "A boy in the household is older than the scheme's age limit for boys.",
    Reason.ACCESS: "The unit does not meet every access need of the household's members.",
    Reason.NRPF: "The household has no recourse to public funds and the scheme cannot take "
    "NRPF households.",
    Reason.RISK: "The case's risk level is higher than the accommodation can hold.",
    Reason.EXCLUSION_ZONE: "The unit is within the radius of a known perpetrator location.",
    Reason.AVOID_AUTHORITY: "The unit is in an authority the household must avoid.",
    Reason.PROTOCOL: "No protocol in force lets the unit's authority receive from the "
    "referring authority.",
    Reason.BALANCE_CAP: "The referring authority has used its reciprocal balance cap under "
    "the protocol that governs this placement.",
    Reason.NOT_AVAILABLE_YET: "The accommodation is not available by the date it is needed.",
    Reason.PETS: "The household has pets and the scheme does not accept pets.",
    Reason.LANGUAGE: "The scheme offers none of the household's languages, and the household "
    "needs one.",
    Reason.SUPPORT: "The scheme does not offer all the support the household needs.",
    Reason.KEEP_APART: "A household linked to the same perpetrator is, or would be, in the "
    "same scheme.",
    Reason.PERPETRATOR_MOVE_NOT_POSSIBLE: "Moving the perpetrator is not possible or not "
    "wanted for this case, or the victim's home is not known.",
    Reason.CONDITIONS: "The accommodation cannot host a perpetrator under every condition of "
    "the case (DVPN, DVPO, bail, probation).",
    Reason.TOO_CLOSE: "The accommodation is closer than the minimum distance to the victim's "
    "home, the children's schools or the victim's named places.",
}

_ORDER = {reason: i for i, reason in enumerate(Reason)}


def explain_exclusion(reasons: Iterable[Reason]) -> str:
    """One paragraph for everything that rules an option out, in a fixed order."""
    return _paragraph(frozenset(reasons))


@lru_cache(maxsize=4096)
def _paragraph(reasons: frozenset[Reason]) -> str:
    """Built once per set of reasons: a match explains its nearest misses every call, and
    the sets that occur are few."""
    ordered = sorted(reasons, key=_ORDER.__getitem__)
    return "Ruled out: " + " ".join(r.sentence for r in ordered)
