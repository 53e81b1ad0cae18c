"""The synthetic-data generator: deterministic, realistic, on real geography, consistent.

The national dataset is generated once (module fixture, one test); the other checks run
on the demo and region scales so the file stays quick.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures import SCALES, Dataset, generate
from fixtures.records import Member, ReferralDetails
from placement.enums import (
    AccessFeature,
    Gender,
    GenderPolicy,
    PerpetratorCondition,
    ProtocolKind,
    ReferralStatus,
    RiskLevel,
    SchemeType,
    Specialism,
    Support,
    UnitStatus,
)
from placement.geography import (
    authority_at,
    districts,
    haversine_km,
    local_authorities,
    normalise_postcode,
)
from placement.referrals import ReferralCreate
from placement.registry.locations import check_location

TODAY = date(2026, 11, 24)
REFERENCE = re.compile(r"^[A-Z]{3}-20\d\d-\d{5}$")
DETAIL_KEYS = {
    "members", "nrpf", "pets", "space_need", "languages", "language_essential",
    "support_needs", "support_essential", "perpetrator_locations", "avoid_authorities",
    "stay_near", "keep_school", "home", "perpetrator_move_possible",
    "perpetrator_conditions", "preferred_specialisms", "needed_by",
}  # fmt: skip


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return generate("demo", 1, TODAY)


@pytest.fixture(scope="module")
def region() -> Dataset:
    return generate("region", 1, TODAY)


@pytest.fixture(scope="module")
def national() -> Dataset:
    return generate("national", 1, TODAY)


def test_a_seed_always_gives_the_same_dataset(demo: Dataset) -> None:
    assert generate("demo", 1, TODAY) == demo


def test_another_seed_gives_another_dataset(demo: Dataset) -> None:
    other = generate("demo", 2, TODAY)
    assert {s.id for s in other.schemes}.isdisjoint(s.id for s in demo.schemes)
    assert [s.location for s in other.schemes] != [s.location for s in demo.schemes]
    assert [r.details for r in other.referrals] != [r.details for r in demo.referrals]


def test_an_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="demo, region, national"):
        generate("county")


def test_demo_is_greater_manchester(demo: Dataset) -> None:
    boroughs = {
        a.code for a in local_authorities().values() if a.group_name == "Greater Manchester"
    }
    assert len(boroughs) == 10
    assert {s.authority_code for s in demo.schemes} == boroughs
    assert {r.authority_code for r in demo.referrals} <= boroughs
    assert (len(demo.schemes), len(demo.units)) == (40, 300)
    assert 50 <= sum(r.status is ReferralStatus.OPEN for r in demo.referrals) <= 70
    assert [p.name for p in demo.protocols] == [
        "Greater Manchester Cross-Border Domestic Abuse Protocol"
    ]
    assert demo.protocols[0].balance_cap is not None


def test_region_is_the_north_west_and_west_midlands(region: Dataset) -> None:
    regions = {local_authorities()[s.authority_code].region for s in region.schemes}
    assert regions == {"North West", "West Midlands"}
    assert len(region.units) == 2_000
    groups = {p.name for p in region.protocols if p.kind is ProtocolKind.GROUP}
    assert any("Greater Manchester" in name for name in groups)
    assert any("West Midlands" in name for name in groups)
    wm = next(p for p in region.protocols if "West Midlands" in p.name)
    members = {m.authority_code for m in region.protocol_members if m.protocol_id == wm.id}
    assert len(members) == 7


def test_national_is_all_of_england(national: Dataset) -> None:
    assert 9_500 <= len(national.units) <= 10_500
    assert 2_300 <= len(national.schemes) <= 2_700
    assert 1_800 <= len(national.referrals) <= 2_200
    by_region = Counter(local_authorities()[s.authority_code].region for s in national.schemes)
    assert len(by_region) == 9
    assert by_region["London"] > by_region["North East"]  # spread by households
    assert {p for provider in national.providers for p in provider.specialisms} == set(Specialism)
    london = [p for p in national.protocols if p.kind is ProtocolKind.RECIPROCAL]
    london = [p for p in london if _members_in(national, p.id, "London")]
    assert len(london) >= 10
    assert any(p.ends_on and p.ends_on < TODAY for p in london)  # a lapsed reciprocal
    assert_consistent(national)
    assert_in_england(national)
    assert_supply_mix(national)
    assert_realistic_households(national)
    assert_scarce(national, by_region=True)


@pytest.mark.parametrize("scale", ["demo", "region"])
def test_records_are_consistent_and_in_england(scale: str, request: pytest.FixtureRequest) -> None:
    dataset = request.getfixturevalue(scale)
    assert_consistent(dataset)
    assert_in_england(dataset)


@pytest.mark.parametrize("scale", ["demo", "region"])
def test_supply_has_the_realistic_mix(scale: str, request: pytest.FixtureRequest) -> None:
    assert_supply_mix(request.getfixturevalue(scale))


@pytest.mark.parametrize("scale", ["demo", "region"])
def test_households_are_realistic(scale: str, request: pytest.FixtureRequest) -> None:
    assert_realistic_households(request.getfixturevalue(scale))


@pytest.mark.parametrize("scale", ["demo", "region"])
def test_spaces_are_scarce(scale: str, request: pytest.FixtureRequest) -> None:
    assert_scarce(request.getfixturevalue(scale), by_region=False)


@pytest.mark.parametrize("scale", ["region", "national"])
def test_referrals_are_what_the_api_accepts(scale: str, request: pytest.FixtureRequest) -> None:
    """Every scale's households, waiting or already placed, are ones the API would take
    (national ones reach the coast, where a place 40 km away can fall outside the UK's
    bounds), so seeding can derive each one's characteristics through the same schema."""
    dataset: Dataset = request.getfixturevalue(scale)
    for referral in (*dataset.referrals, *dataset.residents):
        body = {
            "reference": referral.reference,
            "risk_level": referral.risk_level,
            "marac": referral.marac,
            "referred_on": referral.referred_on.isoformat(),
            "perpetrator_ref": referral.perpetrator_ref,
            "household": referral.details,
        }
        msgspec.convert(msgspec.json.decode(msgspec.json.encode(body)), ReferralCreate)


def test_scheme_locations_pass_the_registry_checks(region: Dataset) -> None:
    for scheme in region.schemes:
        checked = check_location(dict(scheme.location), scheme.authority_code)
        assert checked["postcode"] == scheme.location["postcode"]


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_any_seed_gives_a_consistent_dataset_in_england(seed: int) -> None:
    dataset = generate("demo", seed, TODAY)
    assert_consistent(dataset)
    assert_in_england(dataset)
    assert len(dataset.units) == SCALES["demo"].units


def assert_consistent(dataset: Dataset) -> None:
    """Every reference points at a record of the dataset; ids and references are unique."""
    assert {a.code for a in dataset.authorities} == set(local_authorities())
    authorities = set(local_authorities())
    providers = {p.id for p in dataset.providers}
    schemes = {s.id for s in dataset.schemes}
    protocols = {p.id for p in dataset.protocols}
    ids = [
        *providers,
        *schemes,
        *(u.id for u in dataset.units),
        *protocols,
        *(o.id for o in dataset.rehousing_options),
        *(r.id for r in dataset.referrals),
    ]
    assert len(ids) == len(set(ids))
    assert {s.provider_id for s in dataset.schemes} == providers  # every provider runs one
    assert {s.authority_code for s in dataset.schemes} <= authorities
    assert {u.scheme_id for u in dataset.units} == schemes  # every scheme has a unit
    assert {m.protocol_id for m in dataset.protocol_members} == protocols
    assert {m.authority_code for m in dataset.protocol_members} <= authorities
    per_protocol = Counter(m.protocol_id for m in dataset.protocol_members)
    assert min(per_protocol.values()) >= 2
    for option in dataset.rehousing_options:
        assert option.provider_id is None or option.provider_id in providers
    references = [(r.authority_code, r.reference) for r in dataset.referrals]
    assert len(references) == len(set(references))
    for referral in dataset.referrals:
        assert referral.authority_code in authorities
        assert REFERENCE.match(referral.reference)
        assert set(referral.details["avoid_authorities"]) <= authorities


def assert_in_england(dataset: Dataset) -> None:
    """Schemes (so their units) and rehousing options lie in the authority they name."""
    known = districts()
    for scheme in dataset.schemes:
        location = scheme.location
        assert authority_at(location["latitude"], location["longitude"]) == scheme.authority_code
        assert normalise_postcode(location["postcode"]) == location["postcode"]
        assert location["postcode"].split(" ")[0] == scheme.postcode_district
        assert known[scheme.postcode_district].authority_code == scheme.authority_code
        assert location["address"].strip()
    for option in dataset.rehousing_options:
        assert authority_at(option.latitude, option.longitude) == option.authority_code
        assert option.address["postcode"].startswith(f"{option.postcode_district} ")


def assert_supply_mix(dataset: Dataset) -> None:
    schemes, units = dataset.schemes, dataset.units
    types = Counter(s.scheme_type for s in schemes)
    assert set(types) == set(SchemeType)
    assert types.most_common(1)[0][0] is SchemeType.REFUGE
    assert types[SchemeType.SANCTUARY_SCHEME] < types[SchemeType.DISPERSED_ACCOMMODATION]
    policies = Counter(s.gender_policy for s in schemes)
    assert set(policies) == set(GenderPolicy)
    assert policies[GenderPolicy.WOMEN_ONLY] > len(schemes) / 2
    assert {s.max_boy_age for s in schemes} == {12, 14, 16, None}
    assert {s.max_risk_level for s in schemes} == set(RiskLevel)
    assert 0 < sum(s.accepts_nrpf for s in schemes) < len(schemes) / 4
    assert 0 < sum(s.accepts_pets for s in schemes) < len(schemes) / 4
    assert {t for s in schemes for t in s.support} == set(Support)
    assert all(300 <= s.weekly_cost <= 900 for s in schemes)
    by_provider = {p.id: p.specialisms for p in dataset.providers}
    with_languages = [s for s in schemes if s.languages]
    specialist = [s for s in with_languages if by_provider[s.provider_id]]
    assert len(specialist) > len(with_languages) / 2  # mostly by-and-for (or BSL) services
    assert sum(not tags for tags in by_provider.values()) > len(by_provider) / 2
    for tag in (Specialism.BY_AND_FOR, Specialism.LGBTQ, Specialism.MALE_VICTIMS):
        assert any(tag in tags for tags in by_provider.values())

    refuges = {s.id for s in schemes if s.scheme_type is SchemeType.REFUGE}
    assert all(u.bedrooms <= 2 for u in units if u.scheme_id in refuges)
    assert all(1 <= u.bedrooms <= 4 and u.bed_spaces >= u.bedrooms for u in units)
    assert {u.cots for u in units} == {0, 1, 2}
    assert {f for u in units for f in u.access_features} == set(AccessFeature)
    assert 0 < sum(bool(u.access_features) for u in units) < len(units) / 3
    statuses = Counter(u.status for u in units)
    # Held only by a live offer, and the dataset makes none.
    assert set(statuses) == set(UnitStatus) - {UnitStatus.HELD}
    assert statuses[UnitStatus.OCCUPIED] > len(units) / 2
    out = [u for u in units if u.status is UnitStatus.OUT_OF_SERVICE]
    assert all(u.out_of_service_reason is not None for u in out)
    assert all(u.out_of_service_reason is None for u in units if u not in out)
    # Every occupied unit has one resident, placed, in a placement recorded directly.
    occupied = {u.id for u in units if u.status is UnitStatus.OCCUPIED}
    assert sorted(p.unit_id for p in dataset.placements) == sorted(occupied)
    residents = {r.id: r for r in dataset.residents}
    assert {p.referral_id for p in dataset.placements} == set(residents)
    assert {r.status for r in residents.values()} == {ReferralStatus.PLACED}
    assert all(p.offer_id is None and p.moved_in_at.date() < TODAY for p in dataset.placements)
    assert all(u.version == 1 for u in units)
    assert sum(u.available_from <= TODAY for u in units) > 0.7 * len(units)
    assert max(u.available_from for u in units) <= TODAY + timedelta(weeks=7)

    assert dataset.rehousing_options
    conditions = {c for o in dataset.rehousing_options for c in o.accepts_conditions}
    assert conditions == set(PerpetratorCondition)


def assert_realistic_households(dataset: Dataset) -> None:
    referrals = dataset.referrals
    households = [r.details for r in referrals]
    assert all(set(h) == DETAIL_KEYS for h in households)
    statuses = Counter(r.status for r in referrals)
    assert statuses[ReferralStatus.OPEN] > 0.8 * len(referrals)
    assert ReferralStatus.PLACED not in statuses  # the dataset holds no placements
    assert {r.risk_level for r in referrals} == set(RiskLevel)
    high = [r for r in referrals if r.risk_level is RiskLevel.HIGH]
    assert sum(r.marac for r in high) > len(high) / 2
    assert all(TODAY - timedelta(days=90) <= r.referred_on <= TODAY for r in referrals)
    shared = Counter(r.perpetrator_ref for r in referrals if r.perpetrator_ref)
    assert 2 in shared.values() and max(shared.values()) == 2

    for household in households:
        victim, *others = household["members"]
        assert victim["age"] >= 16
        for member in others:
            assert member["gender"] in set(Gender)
            if member["age"] < 18:
                assert victim["age"] - member["age"] >= 16
            assert (member["school"] is not None) == (4 <= member["age"] <= 17)
        for zone in household["perpetrator_locations"]:
            assert 2 <= zone["radius_km"] <= 20
        date.fromisoformat(household["needed_by"])

    def count(rule: Callable[[ReferralDetails], object]) -> int:
        return sum(1 for h in households if rule(h))

    women = count(lambda h: h["members"][0]["gender"] == Gender.FEMALE)
    with_children = count(lambda h: any(m["age"] < 18 for m in h["members"][1:]))
    assert women > 0.7 * len(households) and with_children > 0.4 * len(households)
    assert count(lambda h: h["members"][0]["gender"] == Gender.MALE) > 0
    assert count(lambda h: h["space_need"] == GenderPolicy.LGBTQ_SPECIALIST) > 0
    assert count(lambda h: h["members"][0]["age"] >= 60) > 0
    assert count(lambda h: any(_teenage_boy(m) for m in h["members"][1:])) > 0
    assert count(lambda h: any(m["access_needs"] for m in h["members"])) > 0
    for rule in (
        lambda h: h["nrpf"],
        lambda h: h["pets"],
        lambda h: h["keep_school"],
        lambda h: h["languages"],
        lambda h: h["support_needs"],
    ):
        assert 0 < count(rule) < 0.6 * len(households)

    at_home = [authority_at(h["home"]["latitude"], h["home"]["longitude"]) for h in households]
    local = sum(code == r.authority_code for code, r in zip(at_home, referrals, strict=True))
    assert local > 0.6 * len(referrals)
    assert None in at_home  # some fled from outside England
    first_zones = [h["perpetrator_locations"][0] for h in households]
    near_home = [
        haversine_km(z["latitude"], z["longitude"], h["home"]["latitude"], h["home"]["longitude"])
        for z, h in zip(first_zones, households, strict=True)
    ]
    assert max(near_home) < 1.0
    assert count(lambda h: h["avoid_authorities"]) > len(households) / 3


def assert_scarce(dataset: Dataset, by_region: bool) -> None:
    """Fewer available units than open referrals: overall, and in most regions if asked."""
    authorities = local_authorities()
    scheme_region = {s.id: authorities[s.authority_code].region for s in dataset.schemes}
    available = Counter(
        scheme_region[u.scheme_id] for u in dataset.units if u.status is UnitStatus.AVAILABLE
    )
    waiting = Counter(
        authorities[r.authority_code].region
        for r in dataset.referrals
        if r.status is ReferralStatus.OPEN
    )
    assert available.total() < waiting.total()
    if by_region:
        scarce = [region for region in waiting if available[region] < waiting[region]]
        assert len(scarce) >= 0.75 * len(waiting)


def _members_in(dataset: Dataset, protocol_id: object, region: str) -> bool:
    codes = [m.authority_code for m in dataset.protocol_members if m.protocol_id == protocol_id]
    return all(local_authorities()[code].region == region for code in codes)


def _teenage_boy(member: Member) -> bool:
    return member["gender"] == Gender.MALE and 13 <= member["age"] <= 17
