"""Hypothesis strategies for small random worlds, shaped to hit the rules' edges."""

from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType

from hypothesis import strategies as st

from optimiser.problem import (
    Household,
    Member,
    Point,
    Problem,
    Protocol,
    RehousingOption,
    Unit,
    Zone,
)
from tests.optimiser.builders import AS_OF

AUTHORITIES = ("A", "B", "C", "D")
SCHEMES = ("s1", "s2", "s3", "s4", "s5")
ACCESS = ("step_free", "wheelchair", "ground_floor", "adapted_bathroom")
SUPPORT = ("substance_use", "mental_health", "complex_needs")
CONDITIONS = ("dvpn", "dvpo", "bail", "probation")
SPECIALISMS = ("by_and_for", "lgbtq", "deaf_bsl", "male_victims", "older_victims", "young_people")
LANGUAGES = ("en", "ur", "pl")
SCHEME_TYPES = ("refuge", "dispersed_accommodation", "second_stage_accommodation")

points = st.builds(
    Point,
    st.integers(5300, 5340).map(lambda x: x / 100),
    st.integers(-230, -190).map(lambda x: x / 100),
)
days = st.integers(-5, 20).map(lambda d: AS_OF + timedelta(days=d))
soon = st.integers(-5, 8).map(lambda d: AS_OF + timedelta(days=d))
rarely = st.sampled_from((False, False, False, True))
mostly = st.sampled_from((True, True, False))


def subsets(values: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(values), max_size=2)


genders = st.sampled_from(("female", "female", "female", "male", "non_binary"))
needs = st.sampled_from(
    (
        frozenset(),
        frozenset(),
        frozenset(),
        frozenset({"step_free"}),
        frozenset({"wheelchair", "ground_floor"}),
    )
)
adults = st.builds(Member, st.integers(18, 60), genders, needs)
children = st.builds(Member, st.integers(0, 17), st.sampled_from(("female", "male")), needs)
members = st.tuples(adults, st.lists(children, max_size=2)).map(lambda m: (m[0], *m[1]))


@st.composite
def households(draw: st.DrawFn, hid: str = "h") -> Household:
    home = draw(points)
    languages = tuple(draw(subsets(LANGUAGES)))
    return Household(
        id=hid,
        authority_code=draw(st.sampled_from(AUTHORITIES)),
        members=draw(st.one_of(members, members, members, st.tuples(children))),
        needed_by=draw(st.integers(0, 20).map(lambda d: AS_OF + timedelta(days=d))),
        risk_level=draw(st.sampled_from(("standard", "medium", "high"))),
        nrpf=draw(rarely),
        pets=draw(rarely),
        space_need=draw(st.sampled_from((None,) * 5 + ("women_only", "lgbtq_specialist"))),
        languages=languages,
        language_essential=bool(languages) and draw(rarely),
        support_needs=draw(subsets(SUPPORT)),
        support_essential=draw(rarely),
        perpetrator_zones=tuple(
            draw(st.lists(st.builds(Zone, points, st.floats(0, 3, allow_nan=False)), max_size=2))
        ),
        avoid_authorities=draw(st.frozensets(st.sampled_from(AUTHORITIES), max_size=1)),
        stay_near=tuple(draw(st.lists(points, max_size=1))),
        schools=tuple(draw(st.lists(points, max_size=2))),
        keep_school=draw(st.booleans()),
        home=home,
        perpetrator_ref=draw(st.sampled_from((None, "x", "y"))),
        perpetrator_move_possible=draw(st.booleans()),
        perpetrator_conditions=draw(subsets(CONDITIONS)),
        days_waiting=draw(st.integers(0, 100)),
        preferred_specialisms=draw(subsets(SPECIALISMS)),
    )


@st.composite
def units(draw: st.DrawFn, uid: str = "u") -> Unit:
    return Unit(
        id=uid,
        scheme_id=draw(st.sampled_from(SCHEMES)),
        provider_id="p",
        authority_code=draw(st.sampled_from(AUTHORITIES)),
        location=draw(points),
        scheme_type=draw(st.sampled_from(SCHEME_TYPES)),
        self_contained=draw(st.sampled_from((None, None, True, False))),
        bedrooms=draw(st.integers(1, 4)),
        bed_spaces=draw(st.integers(1, 6)),
        cots=draw(st.integers(0, 2)),
        available_from=draw(soon),
        access_features=draw(
            st.sampled_from(
                (frozenset(ACCESS), frozenset(ACCESS), frozenset(), frozenset({"step_free"}))
            )
        ),
        gender_policy=draw(
            st.sampled_from(
                (
                    "women_only",
                    "men_only",
                    "any_gender",
                    "any_gender",
                    "any_gender",
                    "lgbtq_specialist",
                )
            )
        ),
        max_boy_age=draw(st.one_of(st.none(), st.integers(5, 17))),
        max_risk_level=draw(st.sampled_from(("standard", "medium", "high", "high", "high"))),
        accepts_nrpf=draw(mostly),
        accepts_pets=draw(mostly),
        languages=draw(subsets(LANGUAGES)),
        support=draw(subsets(SUPPORT)),
        specialisms=draw(subsets(SPECIALISMS)),
        weekly_cost=draw(st.sampled_from((0.0, 300.0, 900.0, 2000.0))),
    )


@st.composite
def unit_lists(draw: st.DrawFn) -> list[Unit]:
    return [replace(u, id=f"u{i}") for i, u in enumerate(draw(st.lists(units(), max_size=12)))]


@st.composite
def protocols(draw: st.DrawFn) -> tuple[Protocol, ...]:
    out = []
    for i in range(draw(st.integers(0, 3))):
        members = draw(st.frozensets(st.sampled_from(AUTHORITIES), min_size=2, max_size=4))
        cap = draw(st.one_of(st.none(), st.integers(0, 2)))
        balances = {a: draw(st.integers(-2, 3)) for a in sorted(members)}
        out.append(
            Protocol(
                id=f"p{i}", members=members, balance_cap=cap, balances=MappingProxyType(balances)
            )
        )
    return tuple(out)


@st.composite
def rehousing_options(draw: st.DrawFn, oid: str = "r") -> RehousingOption:
    return RehousingOption(
        id=oid,
        authority_code=draw(st.sampled_from(AUTHORITIES)),
        location=draw(
            st.builds(
                Point,
                st.integers(5100, 5500).map(lambda x: x / 100),
                st.integers(-300, 0).map(lambda x: x / 100),
            )
        ),
        available_from=draw(days),
        max_risk_level=draw(st.sampled_from(("standard", "medium", "high"))),
        accepts_conditions=draw(subsets(CONDITIONS)),
        weekly_cost=draw(st.sampled_from((0.0, 250.0))),
    )


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    templates = draw(st.lists(units(), max_size=7))
    copies = [draw(st.integers(1, 3)) for _ in templates]
    stock = [
        replace(t, id=f"u{i}-{k}")
        for i, (t, n) in enumerate(zip(templates, copies, strict=True))
        for k in range(n)
    ]
    n_households = draw(st.integers(0, 7))
    n_options = draw(st.integers(0, 3))
    return Problem(
        households=tuple(draw(households(f"h{i}")) for i in range(n_households)),
        units=tuple(stock),
        protocols=draw(protocols()),
        rehousing_options=tuple(draw(rehousing_options(f"r{i}")) for i in range(n_options)),
        as_of=AS_OF,
    )
