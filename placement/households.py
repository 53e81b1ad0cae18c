"""The household: who is referred, what they need, and every place tied to them.

This is the document a referral holds, encrypted at rest: members (age and gender, never a
name), needs, perpetrator locations, schools, home and places to stay near. Its schema
and rules live here, in the domain, so the API and the pages validate it the same way;
its defaults are written once, on `Household`. Coordinates may be anywhere in the UK:
families flee into England from Wales and Scotland.

`HouseholdNeeds` is the slice a provider deciding an offer may see: make-up and needs,
no places.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from placement.crypto import Cipher
from placement.enums import (
    AccessFeature,
    Gender,
    PerpetratorCondition,
    RiskLevel,
    SpaceNeed,
    Specialism,
    Support,
)
from placement.fields import AuthorityCode, Language, sent_fields

UKLatitude = Annotated[float, Meta(ge=49.0, le=61.0, description="WGS84, within the UK")]
UKLongitude = Annotated[float, Meta(ge=-8.7, le=2.0, description="WGS84, within the UK")]
Radius = Annotated[float, Meta(ge=0, le=500, description="kilometres")]
Age = Annotated[int, Meta(ge=0, le=120)]
Label = Annotated[str, Meta(min_length=1, max_length=40)]
AccessNeeds = Annotated[list[AccessFeature], Meta(max_length=4)]


class Place(msgspec.Struct, forbid_unknown_fields=True):
    """A point, such as the household's home."""

    latitude: UKLatitude
    longitude: UKLongitude


class School(msgspec.Struct, forbid_unknown_fields=True):
    """A child's school, so a placement can keep the child within reach of it."""

    latitude: UKLatitude
    longitude: UKLongitude
    district: Annotated[str, Meta(max_length=5)] | None = None


class NamedPlace(msgspec.Struct, forbid_unknown_fields=True):
    """A place the household wants to stay near, with a label of their own."""

    latitude: UKLatitude
    longitude: UKLongitude
    label: Label


class PerpetratorLocation(msgspec.Struct, forbid_unknown_fields=True):
    """A place the perpetrator is known to be, and how far to keep the household from it."""

    latitude: UKLatitude
    longitude: UKLongitude
    radius_km: Radius


StatedTrans = Annotated[
    bool | None,
    Meta(description="the person says they are trans; null: not asked or not said"),
]
StatedDisability = Annotated[
    bool | None,
    Meta(description="the person says they are disabled; null: not asked or not said"),
]
StatedBlackAndMinoritised = Annotated[
    bool | None,
    Meta(
        description="the household says it is Black or minoritised (Part 4 return); "
        "null: not asked or not said"
    ),
]
StatedLgbtq = Annotated[
    bool | None,
    Meta(description="the household says it is LGBTQ+; null: not asked or not said"),
]


class Member(msgspec.Struct, forbid_unknown_fields=True):
    """A person in the household: age and gender, never a name. The first member is
    the person referred (the victim)."""

    age: Age
    gender: Gender
    access_needs: AccessNeeds = msgspec.field(default_factory=list)
    school: School | None = None
    trans: StatedTrans = None
    disabled: StatedDisability = None


Members = Annotated[list[Member], Meta(min_length=1, max_length=20)]
Languages = Annotated[list[Language], Meta(max_length=10)]
SupportNeeds = Annotated[list[Support], Meta(max_length=3)]
PerpetratorLocations = Annotated[list[PerpetratorLocation], Meta(max_length=20)]
AvoidAuthorities = Annotated[list[AuthorityCode], Meta(max_length=50)]
StayNear = Annotated[list[NamedPlace], Meta(max_length=10)]
Conditions = Annotated[list[PerpetratorCondition], Meta(max_length=4)]
Specialisms = Annotated[list[Specialism], Meta(max_length=6)]


class Household(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Who is referred and what they need: members (age and gender, never a name), needs,
    and every place tied to them. Encrypted at rest; every read is audited."""

    members: Members
    nrpf: bool = False
    pets: bool = False
    space_need: SpaceNeed | None = None
    languages: Languages = msgspec.field(default_factory=list)
    language_essential: bool = False
    support_needs: SupportNeeds = msgspec.field(default_factory=list)
    support_essential: bool = False
    perpetrator_locations: PerpetratorLocations = msgspec.field(default_factory=list)
    avoid_authorities: AvoidAuthorities = msgspec.field(default_factory=list)
    stay_near: StayNear = msgspec.field(default_factory=list)
    keep_school: bool = False
    home: Place | None = None
    perpetrator_move_possible: bool = False
    perpetrator_conditions: Conditions = msgspec.field(default_factory=list)
    preferred_specialisms: Specialisms = msgspec.field(default_factory=list)
    needed_by: date | None = None
    black_and_minoritised: StatedBlackAndMinoritised = None
    lgbtq: StatedLgbtq = None


class HouseholdChanges(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The parts of a household to replace; the parts not sent are kept as they are."""

    members: Members | UnsetType = UNSET
    nrpf: bool | UnsetType = UNSET
    pets: bool | UnsetType = UNSET
    space_need: SpaceNeed | UnsetType | None = UNSET
    languages: Languages | UnsetType = UNSET
    language_essential: bool | UnsetType = UNSET
    support_needs: SupportNeeds | UnsetType = UNSET
    support_essential: bool | UnsetType = UNSET
    perpetrator_locations: PerpetratorLocations | UnsetType = UNSET
    avoid_authorities: AvoidAuthorities | UnsetType = UNSET
    stay_near: StayNear | UnsetType = UNSET
    keep_school: bool | UnsetType = UNSET
    home: Place | UnsetType | None = UNSET
    perpetrator_move_possible: bool | UnsetType = UNSET
    perpetrator_conditions: Conditions | UnsetType = UNSET
    preferred_specialisms: Specialisms | UnsetType = UNSET
    needed_by: date | UnsetType | None = UNSET
    black_and_minoritised: StatedBlackAndMinoritised | UnsetType = UNSET
    lgbtq: StatedLgbtq | UnsetType = UNSET


def changed(household: Household, changes: HouseholdChanges) -> Household:
    """The household with the parts sent in `changes` replaced, whole."""
    return msgspec.structs.replace(household, **sent_fields(changes))


class NeedsMember(msgspec.Struct):
    """A member as a provider sees them: no school."""

    age: Age
    gender: Gender
    access_needs: AccessNeeds


class HouseholdNeeds(msgspec.Struct):
    """What the provider deciding an offer may know: make-up and needs, no places."""

    members: list[NeedsMember]
    risk_level: RiskLevel
    nrpf: bool
    pets: bool
    space_need: SpaceNeed | None
    languages: Languages
    language_essential: bool
    support_needs: SupportNeeds
    support_essential: bool


NEEDS_FIELDS = tuple(
    name for name in HouseholdNeeds.__struct_fields__ if name not in ("members", "risk_level")
)
"""The needs a provider sees exactly as the household states them (a test holds them to
`Household`'s own fields and types)."""


def needs_of(household: Household, risk_level: RiskLevel) -> HouseholdNeeds:
    """The provider's view of a household: no schools, no places, no names."""
    return HouseholdNeeds(
        members=[NeedsMember(m.age, m.gender, list(m.access_needs)) for m in household.members],
        risk_level=risk_level,
        **{name: getattr(household, name) for name in NEEDS_FIELDS},
    )


def seal(cipher: Cipher, household: Household) -> bytes:
    """The household as stored: its JSON document, encrypted."""
    return cipher.encrypt(msgspec.json.encode(household))


def unseal(cipher: Cipher, token: bytes) -> Household:
    """A stored household, decrypted and checked against the schema as it is read."""
    return msgspec.json.decode(cipher.decrypt(token), type=Household)


class Unsealed:
    """Households this worker decrypted lately, by their ciphertext: a bounded LRU.

    Decrypting and checking a household was 7% of a match request's time (sampled), and
    officers ask for matches for the same households over and over. The ciphertext is
    the key, so an entry can only be had by presenting the very bytes it was decrypted
    from: bytes a caller has only after reading the referral through its row filter,
    and a changed household is a new ciphertext (Fernet's IV is random), never a stale
    answer. It saves the decryption only: the access check and the audit event of each
    read happen as before. The households given out are shared between readers, so they
    are for reading (every caller of `ReferralService.household` only reads them).
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: OrderedDict[bytes, Household] = OrderedDict()

    def unseal(self, cipher: Cipher, token: bytes) -> Household:
        key = bytes(token)
        household = self._entries.get(key)
        if household is not None:
            self._entries.move_to_end(key)
            return household
        household = self._entries[key] = unseal(cipher, key)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return household
