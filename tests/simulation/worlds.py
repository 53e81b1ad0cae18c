"""Small simulated worlds, by hand and by hypothesis: few units, a handful of arrivals."""

from dataclasses import replace
from datetime import date
from types import MappingProxyType
from typing import Any

from hypothesis import strategies as st

from optimiser.problem import Household, Member, Point, Protocol, RehousingOption, Unit
from simulation.arrivals import Arrival
from simulation.calibration import MEAN_STAY_DAYS, Rates
from simulation.world import World, make_world

START = date(2025, 4, 1)
HERE = Point(53.48, -2.24)
HOME = Point(53.40, -2.20)
FAR = Point(52.48, -1.90)


def unit(id: str = "u1", **kw: Any) -> Unit:
    defaults: dict[str, Any] = dict(
        id=id,
        scheme_id="s-" + id,
        provider_id="p1",
        authority_code="A",
        location=HERE,
        bedrooms=2,
        bed_spaces=4,
        available_from=START,
    )
    return Unit(**(defaults | kw))


def household(id: str = "h1", **kw: Any) -> Household:
    defaults: dict[str, Any] = dict(
        id=id, authority_code="A", members=(Member(30, "female"),), needed_by=START, home=HOME
    )
    return Household(**(defaults | kw))


def world(
    units: tuple[Unit, ...],
    mix: tuple[Household, ...],
    *,
    per_day: float = 0.5,
    patience_days: float = 4.0,
    closures: float = 0.0,
    options: tuple[RehousingOption, ...] = (),
    protocols: tuple[Protocol, ...] = (),
) -> World:
    return make_world(
        units,
        protocols,
        options,
        mix,
        START,
        rates=Rates(per_day, patience_mean_days=patience_days, closures_per_unit_year=closures),
    )


def arrival(
    household: Household, at: int, leaves: int, stay_days: int = 7, template: int = 0
) -> Arrival:
    return Arrival(
        household=household,
        template=template,
        at=at,
        leaves=leaves,
        stay_days=MappingProxyType(dict.fromkeys(MEAN_STAY_DAYS, stay_days)),
        tenancy_days=stay_days,
    )


OPTION = RehousingOption(id="o1", authority_code="B", location=FAR, available_from=START)

mixes = st.lists(
    st.builds(
        lambda nrpf, wheelchair, risk, perp: household(
            "t",
            nrpf=nrpf,
            members=(
                Member(30, "female", frozenset({"wheelchair"}) if wheelchair else frozenset()),
            ),
            risk_level=risk,
            perpetrator_move_possible=perp,
        ),
        st.booleans(),
        st.sampled_from((False, False, True)),
        st.sampled_from(("standard", "medium", "high")),
        st.sampled_from((False, False, True)),
    ),
    min_size=1,
    max_size=3,
).map(lambda hs: tuple(replace(h, id=f"t{n}") for n, h in enumerate(hs)))

registries = st.lists(
    st.builds(
        lambda nrpf, wheelchair, kind: (nrpf, wheelchair, kind),
        st.booleans(),
        st.booleans(),
        st.sampled_from(("refuge", "other_emergency_accommodation")),
    ),
    min_size=1,
    max_size=3,
).map(
    lambda specs: tuple(
        unit(
            f"u{n}",
            accepts_nrpf=nrpf,
            access_features=frozenset({"wheelchair", "step_free"}) if wheelchair else frozenset(),
            scheme_type=kind,
        )
        for n, (nrpf, wheelchair, kind) in enumerate(specs)
    )
)


@st.composite
def small_worlds(draw: st.DrawFn) -> World:
    units = draw(registries)
    mix = draw(mixes)
    return world(
        units,
        mix,
        per_day=draw(st.sampled_from((0.2, 0.4, 0.8))),
        patience_days=draw(st.sampled_from((1.0, 3.0, 8.0))),
        closures=draw(st.sampled_from((0.0, 0.0, 15.0))),
        options=(OPTION,) if draw(st.booleans()) else (),
    )
