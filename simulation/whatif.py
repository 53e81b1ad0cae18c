"""What-if: the same years with the registry or a protocol changed, and the difference.

Each seed is run twice, as it is and with the change, over the same arrivals and the
same schedules for every unit both sides have (common random numbers: arrivals depend
only on the seed and the baseline's rates, a unit's schedule only on the seed and its
id), so the difference is the change's own and not the noise between two years. The
mean difference over seeds comes with a 95% interval (Student's t over seeds).
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from optimiser.problem import Unit
from simulation.engine import Policy, Progress, run
from simulation.metrics import UNMET_REASONS, Metrics, measure
from simulation.world import World

T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)
"""Two-sided 95% Student's t quantiles for 1 to 10 degrees of freedom; 1.96 beyond."""


@dataclass(frozen=True, slots=True)
class AddUnits:
    """``count`` units like ``like`` (its attributes; ids are made up)."""

    count: int
    like: Unit

    def apply(self, world: World) -> World:
        extra = tuple(replace(self.like, id=f"{self.like.id}-{k}") for k in range(self.count))
        return replace(world, units=world.units + extra)


@dataclass(frozen=True, slots=True)
class RemoveUnits:
    """The first ``count`` units (by id) of ``scheme_type`` in ``authority_code`` with every
    feature of ``features``."""

    count: int
    scheme_type: str
    authority_code: str
    features: frozenset[str] = frozenset()

    def apply(self, world: World) -> World:
        matching = sorted(
            u.id
            for u in world.units
            if u.scheme_type == self.scheme_type
            and u.authority_code == self.authority_code
            and self.features <= u.access_features
        )
        if len(matching) < self.count:
            raise ValueError(
                f"only {len(matching)} units of that kind in {self.authority_code} to remove"
            )
        gone = set(matching[: self.count])
        return replace(world, units=tuple(u for u in world.units if u.id not in gone))


@dataclass(frozen=True, slots=True)
class ChangeProtocol:
    """``authority_code`` joins (or, with ``leave``, leaves) protocol ``protocol_id``; a
    protocol left with one member is no longer one (nobody crosses a border under it)."""

    protocol_id: str
    authority_code: str
    leave: bool = False

    def apply(self, world: World) -> World:
        if self.protocol_id not in {p.id for p in world.protocols}:
            raise ValueError(f"no protocol {self.protocol_id!r} in force")
        changed = tuple(
            replace(
                p,
                members=p.members - {self.authority_code}
                if self.leave
                else p.members | {self.authority_code},
            )
            if p.id == self.protocol_id
            else p
            for p in world.protocols
        )
        return replace(world, protocols=tuple(p for p in changed if len(p.members) > 1))


Change = AddUnits | RemoveUnits | ChangeProtocol


def interval(differences: Sequence[float]) -> tuple[float, float, float]:
    """Mean and its 95% interval over seeds (zero width for one seed)."""
    mean = statistics.fmean(differences)
    if len(differences) < 2:
        return mean, mean, mean
    df = len(differences) - 1
    t = T_975[df - 1] if df <= len(T_975) else 1.96
    half = t * statistics.stdev(differences) / len(differences) ** 0.5
    return mean, mean - half, mean + half


def _figures(m: Metrics) -> dict[str, float]:
    out = {"placed": float(m.placed), "weighted_placed": m.weighted_placed}
    out |= {f"unmet_{r}": float(m.unmet[r]) for r in UNMET_REASONS}
    median = m.waits["all"].median_days
    p90 = m.waits["all"].p90_days
    out["median_days_to_placement"] = median if median is not None else 0.0
    out["p90_days_to_placement"] = p90 if p90 is not None else 0.0
    return out


def what_if(
    world: World,
    change: Change,
    policy: Policy,
    seeds: Sequence[int],
    days: int,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Baseline and changed figures per seed, and the difference with its interval."""
    changed = change.apply(world)
    base: list[dict[str, float]] = []
    alt: list[dict[str, float]] = []
    for n, seed in enumerate(seeds):
        for side, w in ((base, world), (alt, changed)):
            side.append(_figures(measure(w, run(w, policy, seed, days))))
            if progress is not None:
                progress((2 * n + (side is alt) + 1) / (2 * len(seeds)))
    out: dict[str, Any] = {"policy": policy.name, "days": days, "seeds": len(seeds)}
    for key in base[0]:
        mean, low, high = interval([a[key] - b[key] for a, b in zip(alt, base, strict=True)])
        out[key] = {
            "baseline": round(statistics.fmean(b[key] for b in base), 1),
            "changed": round(statistics.fmean(a[key] for a in alt), 1),
            "difference": round(mean, 1),
            "interval_95": [round(low, 1), round(high, 1)],
        }
    return out
