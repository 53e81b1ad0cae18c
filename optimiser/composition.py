"""What a household's make-up asks of a unit: bed spaces, bedrooms, who the adults are.

Bedrooms follow a simplification of the UK bedroom standard (Housing Act 1985 s.325 as
used for allocations), chosen so that an officer can check it by hand:

- the adults (18 and over) share one bedroom;
- children under 2 sleep in the adults' room (a household of children alone has no
  adults' room, and then an infant counts as any other child);
- a child of 16 or 17 has a bedroom of their own;
- two children under 16 of the same gender may share, and two children under 10 may
  share whatever their genders;
- the household needs the fewest bedrooms that pairing allows.

Bed spaces: one each, except that a child under 2 may sleep in a cot where the unit has
one free.

The bedroom standard is for homes a household has to itself. In a refuge a family
usually shares one room (a woman with two children in a three-bed-space room is an
ordinary refuge placement), so shared and communal accommodation is checked on bed
spaces and cots alone: :data:`SELF_CONTAINED_TYPES` says which scheme types get the
bedroom standard too, and a unit may say otherwise for itself (``Unit.self_contained``).
"""

from dataclasses import dataclass

from optimiser.enums import Gender, SchemeType
from optimiser.problem import Household, Unit

INFANT_AGE = 2
"""Under this age a child may sleep in a cot and in the adults' room."""
YOUNG_CHILD_AGE = 10
"""Under this age children may share a bedroom whatever their genders."""
SHARING_AGE = 16
"""Under this age children of the same gender may share a bedroom."""

SELF_CONTAINED_TYPES: frozenset[str] = frozenset(
    {
        SchemeType.DISPERSED_ACCOMMODATION,
        SchemeType.SECOND_STAGE_ACCOMMODATION,
        SchemeType.SANCTUARY_SCHEME,
    }
)
"""Scheme types whose units are self-contained homes, so the bedroom standard applies.

Dispersed and second-stage accommodation are flats or houses a household has to itself,
and a sanctuary scheme is the household's own home made safe. Refuges, specialist safe
accommodation and other emergency accommodation are shared or communal: a household has
a room (or rooms) with bed spaces, and only bed spaces and cots are checked.
"""


def is_self_contained(unit: Unit) -> bool:
    """The unit's own say if it has one, else its scheme type's default."""
    if unit.self_contained is not None:
        return unit.self_contained
    return unit.scheme_type in SELF_CONTAINED_TYPES


@dataclass(frozen=True, slots=True)
class Composition:
    size: int
    infants: int
    """Children under 2: each may use a cot instead of a bed space."""
    children: int
    bedrooms: int
    adult_genders: frozenset[str]
    oldest_boy: int
    """Age of the oldest male child, or -1 when there is none."""
    access_needs: frozenset[str]


def _children_rooms(children: list[tuple[int, str]]) -> int:
    """Fewest rooms for children who each need a bed in a children's room.

    Exact, not greedy: a child of 10-15 can share only with a child of the same gender
    under 16, so teenagers of one gender pair among themselves first; an odd one left
    over takes a same-gender child under 10 if there is one (never worse, since it saves
    a room and costs the under-10s' pool at most one); the remaining under-10s pair freely.
    """
    rooms = 0
    pool = 0
    for gender in sorted({g for _, g in children}):
        teens = sum(
            1 for age, g in children if g == gender and YOUNG_CHILD_AGE <= age < SHARING_AGE
        )
        young = sum(1 for age, g in children if g == gender and age < YOUNG_CHILD_AGE)
        rooms += (teens + 1) // 2
        if teens % 2 == 1 and young > 0:
            young -= 1
        pool += young
    rooms += sum(1 for age, _ in children if age >= SHARING_AGE)
    return rooms + (pool + 1) // 2


def composition(household: Household) -> Composition:
    adults = [m for m in household.members if m.is_adult]
    children = [m for m in household.members if not m.is_adult]
    in_adults_room = bool(adults)
    needing_room = [
        (m.age, str(m.gender)) for m in children if not (in_adults_room and m.age < INFANT_AGE)
    ]
    access: frozenset[str] = frozenset()
    for member in household.members:
        access |= member.access_needs
    boys = [m.age for m in children if m.gender == Gender.MALE]
    return Composition(
        size=len(household.members),
        infants=sum(1 for m in children if m.age < INFANT_AGE),
        children=len(children),
        bedrooms=(1 if adults else 0) + _children_rooms(needing_room),
        adult_genders=frozenset(str(m.gender) for m in adults),
        oldest_boy=max(boys, default=-1),
        access_needs=access,
    )
