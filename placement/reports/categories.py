"""The categories of the Part 4 return, as stable codes and as the words people read."""

from __future__ import annotations

from placement.enums import (
    DeclineReason,
    MoveOutReason,
    RiskLevel,
    SchemeType,
    UnableReason,
)
from placement.reports.tables import TOTAL

ACCOMMODATION_TYPES = tuple(t.value for t in SchemeType)
GROUPS = ("women", "men", "trans_adults", "other_adults", "children")
AGE_BANDS = (
    "aged_0_4",
    "aged_5_11",
    "aged_12_15",
    "aged_16_17",
    "aged_18_24",
    "aged_25_34",
    "aged_35_44",
    "aged_45_59",
    "aged_60_plus",
)
CHARACTERISTICS = (
    "disabled",
    "black_and_minoritised",
    "lgbtq",
    "nrpf",
    "mental_health",
    "substance_use",
    "complex_needs",
    "older_victim",
    "young_victim",
    "male_victim",
)
RISK_LEVELS = tuple(r.value for r in RiskLevel)
UNABLE_REASONS = tuple(r.value for r in UnableReason)
DECLINE_REASONS = tuple(r.value for r in DeclineReason)
MOVE_OUT_REASONS = tuple(r.value for r in MoveOutReason)
PLACEMENT_GROUPS = ("all", "nrpf", "wheelchair_user", "large_family", "boy_over_12")
STATISTICS = ("median", "p90")

WORDS: dict[str, str] = {
    TOTAL: "Total",
    "refuge": "Refuge",
    "specialist_safe_accommodation": "Specialist safe accommodation",
    "dispersed_accommodation": "Dispersed accommodation",
    "sanctuary_scheme": "Sanctuary scheme",
    "second_stage_accommodation": "Second stage accommodation",
    "other_emergency_accommodation": "Other domestic abuse emergency accommodation",
    "women": "Women",
    "men": "Men",
    "trans_adults": "Trans adults",
    "other_adults": "Other adults",
    "children": "Children",
    "aged_0_4": "0 to 4",
    "aged_5_11": "5 to 11",
    "aged_12_15": "12 to 15",
    "aged_16_17": "16 to 17",
    "aged_18_24": "18 to 24",
    "aged_25_34": "25 to 34",
    "aged_35_44": "35 to 44",
    "aged_45_59": "45 to 59",
    "aged_60_plus": "60 and over",
    "disabled": "Disabled (members)",
    "black_and_minoritised": "Black and minoritised",
    "lgbtq": "LGBTQ+",
    "nrpf": "No recourse to public funds",
    "mental_health": "Mental health support needs",
    "substance_use": "Substance use support needs",
    "complex_needs": "Complex needs",
    "older_victim": "Older victim (60 and over)",
    "young_victim": "Young victim (16 to 24)",
    "male_victim": "Male victim",
    "standard": "Standard risk",
    "medium": "Medium risk",
    "high": "High risk",
    "no_space": "No space",
    "needs_not_met": "Needs could not be met",
    "risk_too_high": "Risk too high for what is available",
    "ineligible": "Ineligible",
    "declined_or_withdrew": "Household declined or withdrew",
    "not_contactable": "Could not be contacted",
    "other": "Other",
    "too_close_to_perpetrator": "Too close to the perpetrator",
    "household_declined": "Household declined",
    "no_longer_available": "No longer available",
    "funding_not_agreed": "Funding not agreed",
    "no_longer_needed": "No longer needed",
    "settled_social": "Moved to settled social housing",
    "settled_private": "Moved to settled private accommodation",
    "other_safe_accommodation": "Moved to other safe accommodation",
    "returned_to_perpetrator": "Returned to the perpetrator",
    "evicted_or_asked_to_leave": "Evicted or asked to leave",
    "left_without_notice": "Left without notice",
    "all": "All households placed",
    "wheelchair_user": "Wheelchair users",
    "large_family": "Large families (4 or more children)",
    "boy_over_12": "Households with a boy over 12",
    "median": "Median",
    "p90": "90th percentile",
    "moved": "Perpetrators moved",
    "units": "Units",
    "bed_spaces": "Bed spaces",
    "sent": "Sent",
    "received": "Received",
    "balance": "Balance (sent minus received)",
    "cap": "Cap",
    "headroom": "Headroom",
}


def words(code: str, names: dict[str, str] | None = None) -> str:
    """What a person reads for a category code: an authority's name, a reason's words."""
    if names and code in names:
        return names[code]
    return WORDS.get(code, code.replace("_", " ").capitalize())
