"""An independent, deliberately plain re-statement of the hard rules.

It shares no code with the optimiser beyond the input types: loops instead of arrays,
the math module instead of numpy, brute force instead of cleverness (bedrooms are found
by trying every way of pairing children). Tests use it to check that every ranked option
and every allocation breaks no rule.
"""

import math
from collections.abc import Sequence
from datetime import date

from optimiser.problem import Household, Point, Problem, Protocol, RehousingOption, Unit, Weights

RISK = {"standard": 0, "medium": 1, "high": 2}
HOMES_OF_THEIR_OWN = {"dispersed_accommodation", "second_stage_accommodation", "sanctuary_scheme"}
"""Scheme types whose units get the bedroom standard; the rest share rooms by bed space."""


def bedroom_standard_applies(u: Unit) -> bool:
    if u.self_contained is None:
        return u.scheme_type in HOMES_OF_THEIR_OWN
    return u.self_contained


def km(a: Point, b: Point) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(h, 1.0)))


def may_share(a: tuple[int, str], b: tuple[int, str]) -> bool:
    if a[0] < 10 and b[0] < 10:
        return True
    return a[0] < 16 and b[0] < 16 and a[1] == b[1]


def fewest_rooms(children: list[tuple[int, str]]) -> int:
    if not children:
        return 0
    first, rest = children[0], children[1:]
    best = 1 + fewest_rooms(rest)
    for i, other in enumerate(rest):
        if may_share(first, other):
            best = min(best, 1 + fewest_rooms(rest[:i] + rest[i + 1 :]))
    return best


def bedrooms_needed(h: Household) -> int:
    adults = [m for m in h.members if m.age >= 18]
    children = [(m.age, str(m.gender)) for m in h.members if m.age < 18]
    if adults:
        children = [c for c in children if c[0] >= 2]
    return (1 if adults else 0) + fewest_rooms(children)


def policy_fits(h: Household, policy: str) -> bool:
    adult_genders = {str(m.gender) for m in h.members if m.age >= 18}
    if h.space_need == "lgbtq_specialist":
        return policy == "lgbtq_specialist"
    if h.space_need == "women_only":
        return policy == "women_only" and adult_genders <= {"female"}
    return {
        "women_only": adult_genders <= {"female"},
        "men_only": adult_genders <= {"male"},
        "any_gender": True,
        "lgbtq_specialist": False,
    }[policy]


def governing(protocols: Sequence[Protocol], a: str, b: str) -> Protocol | None:
    both = [p for p in protocols if a in p.members and b in p.members]
    uncapped = sorted((p for p in both if p.balance_cap is None), key=lambda p: p.id)
    if uncapped:
        return uncapped[0]
    return min(both, key=lambda p: (len(p.members), p.id), default=None)


def violations(
    h: Household,
    u: Unit,
    protocols: Sequence[Protocol],
    as_of: date,
    *,
    caps: bool = True,
    linked_schemes: frozenset[str] = frozenset(),
) -> set[str]:
    out = set()
    infants = sum(1 for m in h.members if m.age < 2)
    if len(h.members) - min(infants, u.cots) > u.bed_spaces:
        out.add("capacity_bed_spaces")
    if bedroom_standard_applies(u) and bedrooms_needed(h) > u.bedrooms:
        out.add("capacity_bedrooms")
    if not policy_fits(h, u.gender_policy):
        out.add("gender_policy")
    if u.max_boy_age is not None and any(
        m.gender == "male" and m.age < 18 and m.age > u.max_boy_age for m in h.members
    ):
        out.add("boy_age")
    for m in h.members:
        if not m.access_needs <= u.access_features:
            out.add("access")
    if h.nrpf and not u.accepts_nrpf:
        out.add("nrpf")
    if RISK[h.risk_level] > RISK[u.max_risk_level]:
        out.add("risk")
    for zone in h.perpetrator_zones:
        if km(zone.point, u.location) <= zone.radius_km:
            out.add("exclusion_zone")
    if u.authority_code in h.avoid_authorities:
        out.add("avoid_authority")
    if u.authority_code != h.authority_code:
        protocol = governing(protocols, h.authority_code, u.authority_code)
        if protocol is None:
            out.add("protocol")
        elif (
            caps
            and protocol.balance_cap is not None
            and (protocol.balances.get(h.authority_code, 0) >= protocol.balance_cap)
        ):
            out.add("balance_cap")
    if u.available_from > max(h.needed_by, as_of):
        out.add("not_available_yet")
    if h.pets and not u.accepts_pets:
        out.add("pets")
    if h.language_essential and not set(h.languages) & set(u.languages):
        out.add("language")
    if h.support_essential and not h.support_needs <= u.support:
        out.add("support")
    if u.scheme_id in linked_schemes:
        out.add("keep_apart")
    return out


def move_violations(h: Household, o: RehousingOption, weights: Weights, as_of: date) -> set[str]:
    if not h.perpetrator_move_possible or h.home is None:
        return {"perpetrator_move_not_possible"}
    out = set()
    if RISK[h.risk_level] > RISK[o.max_risk_level]:
        out.add("risk")
    if not h.perpetrator_conditions <= o.accepts_conditions:
        out.add("conditions")
    for place in (h.home, *h.schools, *h.stay_near):
        if km(place, o.location) < weights.min_perpetrator_distance_km:
            out.add("too_close")
    if o.available_from > max(h.needed_by, as_of):
        out.add("not_available_yet")
    return out


def check_allocation(problem: Problem, result: object) -> None:
    """Raise AssertionError if ``result`` breaks any rule of ``problem``."""
    assignments = result.assignments  # type: ignore[attr-defined]
    assert [a.household_id for a in assignments] == [h.id for h in problem.households]
    units = {u.id: u for u in problem.units}
    options = {o.id: o for o in problem.rehousing_options}
    used_units: set[str] = set()
    used_options: set[str] = set()
    schemes_by_perpetrator: dict[str, list[str]] = {}
    moves_by_perpetrator: dict[str, int] = {}
    net: dict[tuple[str, str], int] = {}
    for h, a in zip(problem.households, assignments, strict=True):
        if a.kind == "unplaced":
            assert a.unit_id is None and a.option_id is None
            continue
        if a.kind == "perpetrator_move":
            assert a.unit_id is None and a.option_id in options
            assert a.option_id not in used_options, "option used twice"
            used_options.add(a.option_id)
            assert not move_violations(h, options[a.option_id], problem.weights, problem.as_of)
            if h.perpetrator_ref is not None:
                moves_by_perpetrator[h.perpetrator_ref] = (
                    moves_by_perpetrator.get(h.perpetrator_ref, 0) + 1
                )
            continue
        assert a.kind == "unit" and a.option_id is None and a.unit_id in units
        assert a.unit_id not in used_units, "unit used twice"
        used_units.add(a.unit_id)
        u = units[a.unit_id]
        broken = violations(h, u, problem.protocols, problem.as_of, caps=False)
        assert not broken, (h.id, u.id, broken)
        if h.perpetrator_ref is not None:
            schemes_by_perpetrator.setdefault(h.perpetrator_ref, []).append(u.scheme_id)
        if u.authority_code != h.authority_code:
            p = governing(problem.protocols, h.authority_code, u.authority_code)
            assert p is not None
            if p.balance_cap is not None:
                net[(p.id, h.authority_code)] = net.get((p.id, h.authority_code), 0) + 1
                net[(p.id, u.authority_code)] = net.get((p.id, u.authority_code), 0) - 1
    for ref, schemes in schemes_by_perpetrator.items():
        assert len(schemes) == len(set(schemes)), f"keep-apart broken for {ref}"
    assert all(n <= 1 for n in moves_by_perpetrator.values()), "a perpetrator moved twice"
    protocols = {p.id: p for p in problem.protocols}
    for (pid, authority), change in net.items():
        p = protocols[pid]
        assert p.balance_cap is not None
        room = max(p.balance_cap - p.balances.get(authority, 0), 0)
        assert change <= room, f"cap broken for {authority} under {pid}"
    placed = [a for a in assignments if a.kind != "unplaced"]
    assert result.placed == len(placed)  # type: ignore[attr-defined]
    assert math.isclose(
        result.weighted_placed,  # type: ignore[attr-defined]
        sum(a.priority for a in placed),
        abs_tol=1e-6,
    )


def couplings_hold(problem: Problem, choice: list[tuple[str, str] | None]) -> bool:
    """Keep-apart, one move per perpetrator and balance caps, for a brute-force choice of
    ("unit", id) / ("move", id) / None per household."""
    units = {u.id: u for u in problem.units}
    seen: set[tuple[str, str]] = set()
    moved: set[str] = set()
    net: dict[tuple[str, str], int] = {}
    for h, c in zip(problem.households, choice, strict=True):
        if c is None:
            continue
        if c[0] == "move":
            if h.perpetrator_ref is not None:
                if h.perpetrator_ref in moved:
                    return False
                moved.add(h.perpetrator_ref)
            continue
        u = units[c[1]]
        if h.perpetrator_ref is not None:
            if (h.perpetrator_ref, u.scheme_id) in seen:
                return False
            seen.add((h.perpetrator_ref, u.scheme_id))
        if u.authority_code != h.authority_code:
            p = governing(problem.protocols, h.authority_code, u.authority_code)
            if p is not None and p.balance_cap is not None:
                net[(p.id, h.authority_code)] = net.get((p.id, h.authority_code), 0) + 1
                net[(p.id, u.authority_code)] = net.get((p.id, u.authority_code), 0) - 1
    protocols = {p.id: p for p in problem.protocols}
    for (pid, a), change in net.items():
        cap = protocols[pid].balance_cap
        assert cap is not None
        if change > max(cap - protocols[pid].balances.get(a, 0), 0):
            return False
    return True


def best_weighted_placed(problem: Problem, priority: list[float]) -> float:
    """The most priority any allocation resolves, by trying them all (tiny problems)."""
    choices: list[list[tuple[str, str] | None]] = []
    for h in problem.households:
        mine: list[tuple[str, str] | None] = [None]
        mine += [
            ("unit", u.id)
            for u in problem.units
            if not violations(h, u, problem.protocols, problem.as_of, caps=False)
        ]
        mine += [
            ("move", o.id)
            for o in problem.rehousing_options
            if not move_violations(h, o, problem.weights, problem.as_of)
        ]
        choices.append(mine)
    best = 0.0

    def walk(
        i: int, taken: set[tuple[str, str]], picked: list[tuple[str, str] | None], total: float
    ) -> None:
        nonlocal best
        if i == len(choices):
            if total > best and couplings_hold(problem, picked):
                best = total
            return
        for c in choices[i]:
            if c is not None and c in taken:
                continue
            walk(
                i + 1,
                taken | ({c} if c else set()),
                [*picked, c],
                total + (priority[i] if c else 0.0),
            )

    walk(0, set(), [], 0.0)
    return best
