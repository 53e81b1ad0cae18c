"""What matching answers, as officers are shown it: units as area and type, never an
address, and other authorities' cases only as counts.

These are the records the API returns as they are (and the pages render), so that what
may be shown is decided here, in the domain, once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import msgspec

import optimiser
from optimiser.explain import describe_score
from placement.enums import AllocationScope, SchemeType

SCORE_DIGITS = 2
"""Scores and their parts are shown to hundredths, as the explanations print them."""


class Area(msgspec.Struct, frozen=True):
    """Where a unit is and what it is, as far as an officer may know before an offer is
    accepted: names for people, ids and codes beside them for machines. Frozen: one is
    shared by every response that shows its unit (`Shown`)."""

    scheme_id: str
    scheme_name: str
    scheme_type: str
    authority_code: str
    authority_name: str
    postcode_district: str
    unit_label: str
    bedrooms: int


class MatchOption(msgspec.Struct):
    """A unit the household could have: its score, the score's parts and why."""

    unit_id: str
    score: float
    parts: dict[str, float]
    explanation: str
    area: Area


class Miss(msgspec.Struct):
    """A unit that came close, and the rules that ruled it out."""

    unit_id: str
    reasons: list[str]
    explanation: str
    area: Area


class Matches(msgspec.Struct):
    """Every available unit checked for a referral: the feasible ones ranked, the rest
    counted by reason."""

    referral_id: uuid.UUID
    checked: int
    feasible: int
    options: list[MatchOption]
    excluded: dict[str, int]
    """Units ruled out, counted under every rule each one breaks."""
    nearest_misses: list[Miss]


class PerpetratorOption(msgspec.Struct):
    """A rehousing option for the perpetrator, far enough from the household's places."""

    option_id: str
    score: float
    parts: dict[str, float]
    explanation: str


class PerpetratorOptions(msgspec.Struct):
    """Rehousing options for the perpetrator instead, ranked, the rest counted by reason."""

    referral_id: uuid.UUID
    checked: int
    options: list[PerpetratorOption]
    excluded: dict[str, int]


class RuleCount(msgspec.Struct):
    """How many units (or rehousing options) one matcher rule rules out for a case."""

    rule: str
    """A reason code (`optimiser.Reason`)."""
    count: int
    description: str


class PriorityCount(msgspec.Struct):
    """How many of a case's suitable units went to cases of one priority: never which."""

    priority: float
    units: int


class CapBlock(msgspec.Struct):
    """A reciprocal balance cap that alone keeps a case out of this allocation."""

    protocol_id: str
    protocol_name: str
    from_authority_code: str
    from_authority_name: str
    to_authority_code: str | None
    """Where the case would go, when the cap is its own authority's; none when placing it
    would instead cost `from_authority` a placement it receives, and so its room."""
    to_authority_name: str | None


class Unplaced(msgspec.Struct):
    """What keeps an unplaced case out, computed from the allocation (`optimiser.binding`)."""

    binding: str
    """`no_suitable_unit`, `taken` (by cases of higher or equal priority), `balance_cap`,
    `keep_apart`, or `not_proven` (the run ended at its time limit)."""
    suitable_units: int
    suitable_options: int
    ruled_out: list[RuleCount]
    """`no_suitable_unit`: units ruled out per rule (a unit counts under every rule it breaks)."""
    options_ruled_out: list[RuleCount]
    """`no_suitable_unit`: perpetrator-rehousing options ruled out per rule."""
    taken_by: list[PriorityCount]
    """Suitable units and options held by other cases, by those cases' priority."""
    caps: list[CapBlock]
    """`balance_cap`: the caps whose lifting alone would let the case be placed."""


class Proposal(msgspec.Struct):
    """What a joint allocation proposes for one case: a unit, a perpetrator move, or
    nothing."""

    referral_id: str
    kind: str
    """`unit` (the household moves), `perpetrator_move`, or `unplaced`."""
    unit_id: str | None
    option_id: str | None
    area: Area | None
    priority: float
    score: float
    parts: dict[str, float]
    explanation: str
    unplaced: Unplaced | None = None
    """Why an unplaced case is unplaced; none for a case that is placed."""


class PartnerCases(msgspec.Struct):
    """Another authority's cases in a group or region run: counts, never the cases."""

    authority_code: str
    cases: int
    placed: int
    perpetrator_moves: int


class Allocation(msgspec.Struct):
    """A joint allocation run: what it proposes for your cases and how good the solution
    is; it books nothing."""

    run_id: uuid.UUID
    """The run's own id: its audit event's, and what a retry of the same request returns."""
    scope: AllocationScope
    status: str
    """`optimal`, or `feasible` (the best found within the time limit)."""
    cases: int
    placed: int
    perpetrator_moves: int
    weighted_placed: float
    weighted_placed_bound: float
    objective: int
    bound: int
    gap: float
    seconds: float
    engine: str
    proposals: list[Proposal]
    """Your authority's cases only."""
    partners: list[PartnerCases]
    """Other authorities' cases in the run (a group or region run), as counts."""


SCHEME_TYPES = {
    SchemeType.REFUGE: "a refuge",
    SchemeType.SPECIALIST_SAFE_ACCOMMODATION: "specialist safe accommodation",
    SchemeType.DISPERSED_ACCOMMODATION: "dispersed accommodation",
    SchemeType.SANCTUARY_SCHEME: "a sanctuary scheme",
    SchemeType.SECOND_STAGE_ACCOMMODATION: "second-stage accommodation",
    SchemeType.OTHER_EMERGENCY_ACCOMMODATION: "other emergency accommodation",
}

RULES = {
    optimiser.Reason.CAPACITY_BED_SPACES: "too few bed spaces",
    optimiser.Reason.CAPACITY_BEDROOMS: "too few bedrooms",
    optimiser.Reason.GENDER_POLICY: "the scheme's gender policy",
    optimiser.Reason.BOY_AGE: "the scheme's age limit for boys",
    optimiser.Reason.ACCESS: "access needs not met",
    optimiser.Reason.NRPF: "no NRPF households taken",
    optimiser.Reason.RISK: "risk higher than the scheme holds",
    optimiser.Reason.EXCLUSION_ZONE: "inside a perpetrator location's radius",
    optimiser.Reason.AVOID_AUTHORITY: "in an authority to avoid",
    optimiser.Reason.PROTOCOL: "no protocol with the unit's authority",
    optimiser.Reason.BALANCE_CAP: "the reciprocal balance cap used up",
    optimiser.Reason.NOT_AVAILABLE_YET: "not free in time",
    optimiser.Reason.PETS: "no pets taken",
    optimiser.Reason.LANGUAGE: "none of the household's languages",
    optimiser.Reason.SUPPORT: "support needed not offered",
    optimiser.Reason.KEEP_APART: "a linked household in the scheme",
    optimiser.Reason.PERPETRATOR_MOVE_NOT_POSSIBLE: "a perpetrator move not possible or wanted",
    optimiser.Reason.CONDITIONS: "the perpetrator's conditions not accepted",
    optimiser.Reason.TOO_CLOSE: "too close to the victim's home, schools or places",
}


def rule_words(code: str) -> str:
    """A matcher rule's code in the few words of `RULES` (the code spelt out if unknown),
    for callers that hold codes as text and may not import the optimiser (the pages)."""
    return next((words for rule, words in RULES.items() if rule == code), code.replace("_", " "))


"""Each rule in a few words, for counts an officer reads in a sentence."""


def rounded(value: float) -> float:
    return round(value, SCORE_DIGITS)


def rounded_parts(parts: Mapping[str, float]) -> dict[str, float]:
    return {name: rounded(value) for name, value in parts.items()}


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def describe_unit(area: Area) -> str:
    """A unit as an officer recognises it: label, size, scheme, type and area."""
    rooms = _count(area.bedrooms, "bedroom")
    kind = SCHEME_TYPES.get(SchemeType(area.scheme_type), area.scheme_type)
    return (
        f"{area.unit_label} ({rooms}) at {area.scheme_name}, {kind} in "
        f"{area.authority_name} ({area.postcode_district})"
    )


@dataclass(frozen=True, slots=True)
class Shown:
    """A unit as responses show it: its area, and that in words (`describe_unit`), built
    once per registry snapshot (`Snapshot.show`), not once per option shown."""

    area: Area
    described: str


def match_option(option: optimiser.RankedOption, unit: Shown) -> MatchOption:
    return MatchOption(
        unit_id=option.unit_id,
        score=rounded(option.score),
        parts=rounded_parts(option.parts),
        explanation=f"{unit.described}. {option.explanation}",
        area=unit.area,
    )


def placed_proposal(a: optimiser.Assignment, area: Area) -> Proposal:
    facts = [f"Priority {a.priority:.2f}.", f"Placed in {describe_unit(area)}."]
    return _proposal(a, area, describe_score(a.score, a.parts, facts))


def move_proposal(a: optimiser.Assignment, authority_name: str) -> Proposal:
    facts = [
        f"Priority {a.priority:.2f}.",
        f"The perpetrator moves to a rehousing option in {authority_name}; the victim and "
        "children stay home.",
    ]
    return _proposal(a, None, describe_score(a.score, a.parts, facts))


def unplaced_proposal(
    a: optimiser.Assignment,
    authority: Callable[[str], str],
    protocol_names: Mapping[str, str],
) -> Proposal:
    """An unplaced case with what binds it, worded with authority and protocol names."""
    b = a.binding
    assert b is not None, "the allocator explains every unplaced case"
    unplaced = Unplaced(
        binding=b.kind,
        suitable_units=b.suitable_units,
        suitable_options=b.suitable_options,
        ruled_out=_rule_counts(b.ruled_out),
        options_ruled_out=_rule_counts(b.options_ruled_out),
        taken_by=[PriorityCount(p, n) for p, n in b.taken_by],
        caps=[
            CapBlock(
                c.protocol_id,
                protocol_names.get(c.protocol_id, "a protocol"),
                c.sender,
                authority(c.sender),
                c.receiver,
                None if c.receiver is None else authority(c.receiver),
            )
            for c in b.caps
        ],
    )
    return Proposal(
        referral_id=a.household_id,
        kind=a.kind,
        unit_id=None,
        option_id=None,
        area=None,
        priority=a.priority,
        score=0.0,
        parts={},
        explanation=f"Priority {a.priority:.2f}. Unplaced: " + _why(unplaced),
        unplaced=unplaced,
    )


def _proposal(a: optimiser.Assignment, area: Area | None, explanation: str) -> Proposal:
    return Proposal(
        referral_id=a.household_id,
        kind=a.kind,
        unit_id=a.unit_id,
        option_id=a.option_id,
        area=area,
        priority=a.priority,
        score=rounded(a.score),
        parts=rounded_parts(a.parts),
        explanation=explanation,
    )


def _rule_counts(counts: Iterable[tuple[str, int]]) -> list[RuleCount]:
    return [RuleCount(rule, n, RULES[optimiser.Reason(rule)]) for rule, n in counts]


def _listed(counts: list[RuleCount], thing: str) -> str:
    return ", ".join(f"{_count(c.count, thing)} for {c.description}" for c in counts)


def _why(u: Unplaced) -> str:
    if u.binding == "no_suitable_unit":
        parts = ["no unit or perpetrator-rehousing option meets every rule for this household."]
        if u.ruled_out:
            parts.append(
                f"Ruled out: {_listed(u.ruled_out, 'unit')} (a unit counts under every rule "
                "it breaks)."
            )
        else:
            parts.append("No unit was available to check.")
        if u.options_ruled_out:
            parts.append(f"Rehousing options ruled out: {_listed(u.options_ruled_out, 'option')}.")
        return " ".join(parts)
    suitable = _suitable(u)
    if u.binding == "taken":
        went = ", ".join(
            f"{t.units} to {'a case' if t.units == 1 else 'cases'} of priority {t.priority:.2f}"
            for t in u.taken_by
        )
        return f"{suitable}, and all went to cases of higher or equal priority: {went}."
    if u.binding == "balance_cap":
        caps = "; ".join(map(_cap, u.caps))
        those = "that cap" if len(u.caps) == 1 else "those caps"
        return f"{suitable}, but {caps}. Lifting {those} would let this case be placed."
    if u.binding == "keep_apart":
        return (
            f"{suitable}, but each one free to it is in a scheme where a "
            "household linked to the same perpetrator is proposed, or is a move of a "
            "perpetrator already proposed to move."
        )
    return (
        f"{suitable}, but the run stopped at its time limit before it could "
        "place this case or prove that it cannot; run it again with more time."
    )


def _cap(c: CapBlock) -> str:
    if c.to_authority_name is None:
        return (
            f"placing it would take from {c.from_authority_name} a placement it receives, "
            f"and with it the room its reciprocal balance cap under {c.protocol_name} "
            "needs for the cases it sends"
        )
    return (
        f"{c.from_authority_name} may place no more into {c.to_authority_name} under "
        f"{c.protocol_name} (its reciprocal balance cap)"
    )


def _suitable(u: Unplaced) -> str:
    """ "3 units meet every rule", "1 unit and 1 rehousing option meet every rule"."""
    things = []
    if u.suitable_units:
        things.append(_count(u.suitable_units, "unit"))
    if u.suitable_options:
        things.append(_count(u.suitable_options, "rehousing option"))
    one = len(things) == 1 and (u.suitable_units + u.suitable_options) == 1
    return " and ".join(things) + (" meets every rule" if one else " meet every rule")
