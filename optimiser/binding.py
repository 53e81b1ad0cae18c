"""Why a case was left unplaced: the constraint that actually binds it in this allocation.

An officer needs to know what would have to change for the case to be placed, so the
answer is computed from the model and the chosen allocation, not listed as possibilities.
For each suitable target (a unit class meeting every single-case rule, or a rehousing
option) there is exactly one state:

- free capacity, or held by a case of LOWER priority (swapping would resolve more
  priority): something coupling cases must stop it. If a balance cap is all that stops
  it, lifting that cap would let the case in (checked against the solution's running
  account, not assumed); otherwise keep-apart (or the perpetrator's one move) does.
  Neither: the run ended before it proved its answer (``not_proven``).
- held by cases of HIGHER OR EQUAL priority: taken.

The case's binding is the most actionable state over its targets: ``not_proven``, then
``balance_cap``, then ``keep_apart``, then ``taken``; with no target at all it is
``no_suitable_unit``, with the rules and how many units each rules out.
"""

from collections import Counter
from dataclasses import dataclass

import numpy as np

from optimiser.candidates import Candidates
from optimiser.couplings import Account
from optimiser.perpetrator import ranked_moves
from optimiser.priority import PRIORITY_SCALE
from optimiser.problem import Household, Problem
from optimiser.rules import Request, broken_rules
from optimiser.unit_table import UnitTable

NOT_PROVEN = "not_proven"
BALANCE_CAP = "balance_cap"
KEEP_APART = "keep_apart"
TAKEN = "taken"
NO_SUITABLE_UNIT = "no_suitable_unit"
_PRECEDENCE = (NOT_PROVEN, BALANCE_CAP, KEEP_APART, TAKEN)


@dataclass(frozen=True, slots=True)
class CapBlock:
    """A balance cap that alone stops the case: ``sender`` may send no more (than it
    receives, plus its room) under ``protocol_id`` in this allocation. ``receiver`` is the
    unit's authority when the cap is the case's own authority's; None when placing the
    case would cost another authority a placement it receives, and so its room."""

    protocol_id: str
    sender: str
    receiver: str | None


@dataclass(frozen=True, slots=True)
class Binding:
    kind: str
    """``no_suitable_unit``, ``taken``, ``balance_cap``, ``keep_apart`` or ``not_proven``."""
    suitable_units: int = 0
    """Units meeting every rule of the case alone (before caps and keep-apart)."""
    suitable_options: int = 0
    """Perpetrator-rehousing options meeting every rule of the case alone."""
    ruled_out: tuple[tuple[str, int], ...] = ()
    """``no_suitable_unit``: per rule broken, how many units it rules out (a unit counts
    under every rule it breaks), in rule order."""
    options_ruled_out: tuple[tuple[str, int], ...] = ()
    """``no_suitable_unit``: the same for perpetrator-rehousing options."""
    taken_by: tuple[tuple[float, int], ...] = ()
    """Suitable units and options held by other cases: (their priority, how many),
    highest priority first. Counts only: never which case."""
    caps: tuple[CapBlock, ...] = ()
    """``balance_cap``: the caps whose lifting alone would let the case be placed."""


def bindings(problem: Problem, c: Candidates, chosen: list[int]) -> dict[int, Binding]:
    """The binding of every household of ``problem`` that ``chosen`` leaves unplaced, by
    its index in the problem."""
    account = Account(c)
    for p in chosen:
        account.add(p)
    holders: dict[int, list[int]] = {}
    for p in chosen:
        holders.setdefault(int(c.target[p]), []).append(int(p))
    table: UnitTable | None = None
    authority = {u.id: u.authority_code for u in problem.units}
    out: dict[int, Binding] = {}
    order = np.argsort(c.household, kind="stable")
    starts = np.searchsorted(c.household[order], np.arange(len(c.priority) + 1))
    for i in map(int, np.flatnonzero(~account.placed)):
        pairs = order[starts[i] : starts[i + 1]]
        if len(pairs) == 0:
            if table is None:
                table = UnitTable.from_units(sorted(problem.units, key=lambda u: u.id))
            out[i] = _hopeless(problem, table, problem.households[i])
            continue
        out[i] = _binding(c, account, holders, authority, i, [int(p) for p in pairs])
    return out


def _hopeless(problem: Problem, table: UnitTable, household: Household) -> Binding:
    """Balance caps are the allocator's to count (``apply_caps=False``), so a case with no
    candidate at all is ruled out by single-case rules only."""
    request = Request.build(table, household, problem.protocols, problem.as_of, apply_caps=False)
    units = tuple(
        (str(reason), int(np.count_nonzero(mask))) for reason, mask in broken_rules(table, request)
    )
    _, moves_out = ranked_moves(
        household, problem.rehousing_options, problem.weights, problem.as_of
    )
    return Binding(NO_SUITABLE_UNIT, ruled_out=units, options_ruled_out=tuple(moves_out.items()))


def _binding(
    c: Candidates,
    account: Account,
    holders: dict[int, list[int]],
    authority: dict[str, str],
    i: int,
    pairs: list[int],
) -> Binding:
    mine = int(c.priority[i])
    states: set[str] = set()
    caps: set[CapBlock] = set()
    taken: Counter[int] = Counter()
    units = options = 0
    for p in pairs:
        t = int(c.target[p])
        target = c.targets[t]
        if target.option_id is None:
            units += target.capacity
        else:
            options += 1
        held = holders.get(t, [])
        taken.update(int(c.priority[c.household[q]]) for q in held)
        if account.left[t] > 0:
            state, blocks = _obstacle(c, account, authority, p, None)
        else:
            lower = [q for q in held if int(c.priority[c.household[q]]) < mine]
            if not lower:
                states.add(TAKEN)
                continue
            state, blocks = min(
                (_obstacle(c, account, authority, p, q) for q in lower),
                key=lambda sb: _PRECEDENCE.index(sb[0]),
            )
        states.add(state)
        caps.update(blocks)
    kind = min(states, key=_PRECEDENCE.index)
    return Binding(
        kind,
        suitable_units=units,
        suitable_options=options,
        taken_by=tuple(
            (points / PRIORITY_SCALE, n) for points, n in sorted(taken.items(), reverse=True)
        ),
        caps=tuple(sorted(caps, key=lambda b: (b.protocol_id, b.sender, b.receiver or "")))
        if kind == BALANCE_CAP
        else (),
    )


def _obstacle(
    c: Candidates, account: Account, authority: dict[str, str], p: int, removed: int | None
) -> tuple[str, list[CapBlock]]:
    """What stops pair ``p`` being added to the allocation, once pair ``removed`` (a
    lower-priority holder of the same target) is taken out, if one is named.

    A swap moves more than the case's own balance: the holder's authority no longer
    sends, and the unit's authority may no longer receive under the holder's protocol,
    which can take its room to send elsewhere. Every cap row the change raises is checked.
    """
    change: Counter[int] = Counter()
    ones: Counter[int] = Counter()
    for q, sign in ((p, 1), (removed, -1)):
        if q is None:
            continue
        for row in account.ones.of(q).tolist():
            ones[row] += sign
        for row in account.sends.of(q).tolist():
            change[row] += sign
        for row in account.receives.of(q).tolist():
            change[row] -= sign
    if any(account.one_used[row] + n > 1 for row, n in ones.items()):
        return KEEP_APART, []
    full = sorted(
        row for row, n in change.items() if n > 0 and account.net[row] + n > c.caps[row].limit
    )
    if not full:
        return NOT_PROVEN, []
    receiver = authority[c.targets[int(c.target[p])].unit_ids[0]]
    return BALANCE_CAP, [
        CapBlock(
            c.caps[row].protocol_id,
            c.caps[row].authority,
            receiver if row in account.sends.of(p) else None,
        )
        for row in full
    ]
