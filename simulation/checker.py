"""An independent check of a simulated history, knowing nothing of how it was made.

A history is sound when:
- every stay is of a household that arrived, starting no earlier than its referral and
  before it withdrew, and no household stays twice;
- no unit or rehousing option holds two stays at once;
- no stay starts in a unit before the unit is first free or while it is closed to
  admissions;
- every unit stay meets every hard rule, by the optimiser's own one-pair checker
  (:func:`optimiser.rules_broken`), and every perpetrator move is one the optimiser's
  :func:`optimiser.perpetrator_options` lists;
- each stay lasts exactly what the household would stay in that kind of accommodation
  (or the perpetrator hold the option).

Returns the problems found, in words; empty when sound.
"""

from collections import defaultdict
from datetime import timedelta
from itertools import pairwise

from optimiser import perpetrator_options, rules_broken
from simulation.history import History, Stay
from simulation.service import HOURS
from simulation.world import World


def check_history(world: World, history: History) -> list[str]:
    problems: list[str] = []
    arrivals = {a.household.id: a for a in history.arrivals}
    units = {u.id: u for u in world.units}
    options = {o.id: o for o in world.rehousing_options}
    seen: set[str] = set()
    by_place: dict[str, list[Stay]] = defaultdict(list)
    for stay in history.stays:
        arrival = arrivals.get(stay.household_id)
        if arrival is None:
            problems.append(f"{stay.household_id} stays but never arrived")
            continue
        if stay.household_id in seen:
            problems.append(f"{stay.household_id} is placed twice")
        seen.add(stay.household_id)
        if not arrival.at <= stay.start < min(arrival.leaves, history.horizon):
            problems.append(f"{stay.household_id} placed at hour {stay.start}, outside its wait")
        day = world.start + timedelta(days=stay.start // HOURS)
        if stay.unit_id is not None:
            unit = units[stay.unit_id]
            by_place["unit/" + unit.id].append(stay)
            life = history.lives[unit.id]
            if stay.start < life.free_from or not life.open_at(stay.start):
                problems.append(f"{unit.id} takes {stay.household_id} while not admitting")
            broken = rules_broken(unit, arrival.household, world.protocols, day)
            if broken:
                problems.append(
                    f"{stay.household_id} in {unit.id} breaks " + ", ".join(map(str, broken))
                )
            if stay.end - stay.start != arrival.stay_hours(unit.scheme_type):
                problems.append(f"{stay.household_id} stays the wrong time in {unit.id}")
        elif stay.option_id is not None:
            by_place["option/" + stay.option_id].append(stay)
            eligible = perpetrator_options(
                arrival.household, [options[stay.option_id]], world.weights, day
            ).options
            if not eligible:
                problems.append(f"{stay.household_id}'s perpetrator may not go to {stay.option_id}")
            if stay.end - stay.start != arrival.tenancy_days * HOURS:
                problems.append(f"{stay.household_id}'s perpetrator holds {stay.option_id} wrongly")
        else:
            problems.append(f"{stay.household_id} stays nowhere")
    for place, stays in by_place.items():
        stays.sort(key=lambda s: s.start)
        for before, after in pairwise(stays):
            if after.start < before.end:
                problems.append(
                    f"{place} holds {before.household_id} and {after.household_id} at once"
                )
    return problems
