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
from optimiser.unit_table import BoolArray, IntArray, UnitTable

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
    its index in the problem.

    What needs no search is counted over arrays for every unplaced case at once (its
    suitable units and options, who holds them, which targets are taken by higher or
    equal priority only); only the pairs that could still enter, free or held by a case
    of lower priority, are checked one by one. A loop over every pair of every unplaced
    case took seconds at five times national scale (about 4,000 cases, 450,000 pairs).
    """
    account = Account(c)
    for p in chosen:
        account.add(p)
    holders: dict[int, list[int]] = {}
    for p in chosen:
        holders.setdefault(int(c.target[p]), []).append(int(p))
    table: UnitTable | None = None
    authority = {u.id: u.authority_code for u in problem.units}
    view = _Unplaced.of(c, account, chosen)
    out: dict[int, Binding] = {}
    for k, i in enumerate(view.households.tolist()):
        if view.starts[k] == view.starts[k + 1]:
            if table is None:
                table = UnitTable.from_units(sorted(problem.units, key=lambda u: u.id))
            out[i] = _hopeless(problem, table, problem.households[i])
            continue
        out[i] = _binding(c, account, holders, authority, view, k)
    return out


@dataclass(frozen=True, slots=True)
class _Unplaced:
    """The pairs of the unplaced cases, grouped by case, and what arrays tell of them."""

    households: IntArray
    """The unplaced cases, ascending."""
    starts: IntArray
    """Case ``k``'s pairs are ``pairs[starts[k]:starts[k + 1]]``."""
    pairs: IntArray
    """Each case's pairs in ascending order."""
    open: BoolArray
    """Per pair: free capacity, or held by a case of lower priority (worth a search)."""
    units: IntArray
    """Per case: suitable units (the capacity of its unit targets)."""
    options: IntArray
    """Per case: suitable rehousing options."""
    taken_by: tuple[tuple[tuple[float, int], ...], ...]
    """Per case: :attr:`Binding.taken_by`."""

    @classmethod
    def of(cls, c: Candidates, account: Account, chosen: list[int]) -> "_Unplaced":
        households = np.flatnonzero(~account.placed)
        pairs = np.flatnonzero(~account.placed[c.household])
        pairs = pairs[np.argsort(c.household[pairs], kind="stable")]
        owner = np.searchsorted(households, c.household[pairs])
        starts = np.searchsorted(owner, np.arange(len(households) + 1))
        target = c.target[pairs]
        held = np.asarray(chosen, dtype=np.int64)
        held_target = c.target[held]
        held_priority = c.priority[c.household[held]]
        lowest = np.full(len(c.targets), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(lowest, held_target, held_priority)
        mine = c.priority[households][owner]
        is_option = np.array([t.option_id is not None for t in c.targets], dtype=np.bool_)
        units = np.bincount(
            owner,
            weights=np.where(is_option[target], 0, c.capacity[target]),
            minlength=len(households),
        ).astype(np.int64)
        options = np.bincount(owner, weights=is_option[target], minlength=len(households))
        return cls(
            households=households,
            starts=starts,
            pairs=pairs,
            open=(account.left[target] > 0) | (lowest[target] < mine),
            units=units,
            options=options.astype(np.int64),
            taken_by=_taken_by(
                owner, target, held_target, held_priority, len(households), len(c.targets)
            ),
        )


def _taken_by(
    owner: IntArray,
    target: IntArray,
    held_target: IntArray,
    held_priority: IntArray,
    households: int,
    targets: int,
) -> tuple[tuple[tuple[float, int], ...], ...]:
    """Per case, how many of its suitable targets' places each priority holds, highest
    first: every (pair, holder of its target) joined by sorting the holders by target."""
    order = np.argsort(held_target, kind="stable")
    by_target = held_priority[order]
    bounds = np.searchsorted(held_target[order], np.arange(targets + 1))
    count = bounds[target + 1] - bounds[target]
    first = np.repeat(bounds[target], count)
    within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    who = np.repeat(owner, count)
    points = by_target[first + within]
    # the highest priority first: sort by case, then by priority descending
    keys, n = np.unique(np.stack([who, -points]), axis=1, return_counts=True)
    cuts = np.searchsorted(keys[0], np.arange(households + 1))
    rows = list(zip((-keys[1] / PRIORITY_SCALE).tolist(), n.tolist(), strict=True))
    return tuple(tuple(rows[cuts[k] : cuts[k + 1]]) for k in range(households))


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
    view: _Unplaced,
    k: int,
) -> Binding:
    i = int(view.households[k])
    mine = int(c.priority[i])
    cut = slice(int(view.starts[k]), int(view.starts[k + 1]))
    searched = view.open[cut]
    states: set[str] = set() if searched.all() else {TAKEN}
    caps: set[CapBlock] = set()
    for p in view.pairs[cut][searched].tolist():
        t = int(c.target[p])
        if account.left[t] > 0:
            state, blocks = _obstacle(c, account, authority, p, None)
        else:
            lower = [q for q in holders.get(t, []) if int(c.priority[c.household[q]]) < mine]
            state, blocks = min(
                (_obstacle(c, account, authority, p, q) for q in lower),
                key=lambda sb: _PRECEDENCE.index(sb[0]),
            )
        states.add(state)
        caps.update(blocks)
    kind = min(states, key=_PRECEDENCE.index)
    return Binding(
        kind,
        suitable_units=int(view.units[k]),
        suitable_options=int(view.options[k]),
        taken_by=view.taken_by[k],
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
