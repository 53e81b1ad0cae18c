"""Which households keep apart: the one definition of "the same perpetrator".

A perpetrator reference is the referring authority's own (its case system's, its
MARAC's): the same text from two authorities is not known to be the same person. Two
authorities make it one by linking their references explicitly (`placement.
perpetrator_links`); only confirmed links count. References joined by links, directly or
through a chain, are one perpetrator: the connected component of linked references, named
by one canonical key. Matches (`loaders.linked_schemes`) and group or region allocation
runs (this key, through the optimiser) both read it here, so they cannot disagree.

Links are few (each is made by hand by two officers), so every confirmed one is read at
once and the components built in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.enums import LinkStatus
from placement.models import PerpetratorLink

Node = tuple[str, str]
"""A perpetrator reference within its authority: (authority code, reference)."""

CONFIRMED_LINKS = select(
    PerpetratorLink.authority_code,
    PerpetratorLink.perpetrator_ref,
    PerpetratorLink.partner_authority_code,
    PerpetratorLink.partner_perpetrator_ref,
).where(PerpetratorLink.status == LinkStatus.CONFIRMED)


@dataclass(frozen=True, slots=True)
class Links:
    """The components of confirmed links: each linked reference's component's nodes."""

    component: dict[Node, frozenset[Node]] = field(default_factory=dict)

    def key(self, authority_code: str, perpetrator_ref: str | None) -> str | None:
        """The keep-apart key of a household's perpetrator: its component's least node,
        or for an unlinked reference the reference within its authority."""
        if not perpetrator_ref:
            return None
        node = (authority_code, perpetrator_ref)
        code, ref = min(self.component.get(node, (node,)))
        return f"{code}/{ref}"

    def same_perpetrator(self, authority_code: str, perpetrator_ref: str) -> frozenset[Node]:
        """Every reference that names the same perpetrator as this one, itself included."""
        node = (authority_code, perpetrator_ref)
        return self.component.get(node, frozenset({node}))


UNLINKED = Links()
"""No links at all: every reference stands within its authority."""


def components(pairs: Iterable[tuple[Node, Node]]) -> Links:
    """The connected components of the graph whose edges are `pairs`."""
    neighbours: dict[Node, set[Node]] = defaultdict(set)
    for a, b in pairs:
        neighbours[a].add(b)
        neighbours[b].add(a)
    component: dict[Node, frozenset[Node]] = {}
    for start in neighbours:
        if start in component:
            continue
        seen, frontier = {start}, [start]
        while frontier:
            for other in neighbours[frontier.pop()]:
                if other not in seen:
                    seen.add(other)
                    frontier.append(other)
        members = frozenset(seen)
        component.update(dict.fromkeys(members, members))
    return Links(component)


async def load_links(session: AsyncSession) -> Links:
    """Every confirmed link, as components."""
    rows = await session.execute(CONFIRMED_LINKS)
    return components(((a, ra), (b, rb)) for a, ra, b, rb in rows.tuples())
