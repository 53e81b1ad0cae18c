"""The household document: one schema, the provider's view derived from it."""

from __future__ import annotations

import msgspec
import pytest
from cryptography.fernet import Fernet

from placement.crypto import Cipher
from placement.enums import RiskLevel
from placement.households import (
    NEEDS_FIELDS,
    Household,
    HouseholdChanges,
    HouseholdNeeds,
    Member,
    NeedsMember,
    Unsealed,
    changed,
    needs_of,
    seal,
    unseal,
)

DOCUMENT = {
    "members": [
        {"age": 31, "gender": "female", "access_needs": ["wheelchair"]},
        {"age": 9, "gender": "male", "school": {"latitude": 53.41, "longitude": -2.16}},
    ],
    "nrpf": True,
    "languages": ["ur"],
    "perpetrator_locations": [{"latitude": 53.48, "longitude": -2.24, "radius_km": 5}],
    "stay_near": [{"latitude": 53.4, "longitude": -2.1, "label": "sister"}],
    "home": {"latitude": 53.47, "longitude": -2.23},
}


def test_the_needs_a_provider_sees_are_the_households_own_fields() -> None:
    household_fields = {f.name: f.type for f in msgspec.structs.fields(Household)}
    needs_fields = {f.name: f.type for f in msgspec.structs.fields(HouseholdNeeds)}
    assert set(NEEDS_FIELDS) == set(needs_fields) - {"members", "risk_level"}
    for name in NEEDS_FIELDS:
        assert needs_fields[name] == household_fields[name], name
    member = {f.name: f.type for f in msgspec.structs.fields(Member)}
    for f in msgspec.structs.fields(NeedsMember):
        assert f.type == member[f.name], f.name


def test_needs_hold_no_place_and_no_school() -> None:
    household = msgspec.convert(DOCUMENT, Household)
    needs = msgspec.to_builtins(needs_of(household, RiskLevel.HIGH))
    assert needs["members"] == [
        {"age": 31, "gender": "female", "access_needs": ["wheelchair"]},
        {"age": 9, "gender": "male", "access_needs": []},
    ]
    assert needs["risk_level"] == "high" and needs["nrpf"] is True
    text = msgspec.json.encode(needs).decode()
    for secret in ("latitude", "school", "home", "sister", "perpetrator"):
        assert secret not in text


def test_defaults_are_written_once_on_the_household() -> None:
    household = msgspec.convert({"members": [{"age": 40, "gender": "female"}]}, Household)
    assert (household.nrpf, household.languages, household.needed_by) == (False, [], None)
    assert household.members[0].access_needs == []


def test_a_change_replaces_only_the_parts_sent() -> None:
    household = msgspec.convert(DOCUMENT, Household)
    after = changed(household, HouseholdChanges(nrpf=False, home=None))
    assert (after.nrpf, after.home) == (False, None)
    assert after.members == household.members and after.languages == ["ur"]


def test_a_sealed_household_reads_back_the_same_and_is_checked_as_it_is_read() -> None:
    cipher = Cipher([Fernet.generate_key().decode()])
    household = msgspec.convert(DOCUMENT, Household)
    token = seal(cipher, household)
    assert b"sister" not in token
    assert unseal(cipher, token) == household
    broken = cipher.encrypt_json({**DOCUMENT, "members": []})
    with pytest.raises(msgspec.ValidationError):
        unseal(cipher, broken)


def test_recently_unsealed_households_are_the_same_answer_without_decrypting_again() -> None:
    """`Unsealed` answers a ciphertext it decrypted lately without the cipher (here, a
    cipher that no longer has the key), a new ciphertext of a changed household with the
    change, and forgets the least recently used beyond its size."""
    key = Fernet.generate_key().decode()
    cipher, other_key = Cipher([key]), Cipher([Fernet.generate_key().decode()])
    household = msgspec.convert(DOCUMENT, Household)
    first = seal(cipher, household)
    recent = Unsealed(size=2)
    assert recent.unseal(cipher, first) == household
    assert recent.unseal(other_key, first) == household  # from memory: no decryption
    moved = changed(household, msgspec.convert({"nrpf": False}, HouseholdChanges))
    second = seal(cipher, moved)
    assert recent.unseal(cipher, second) == moved
    third = seal(cipher, household)
    assert recent.unseal(cipher, third) == household
    assert recent.unseal(other_key, second) == moved  # still held (used after `first`)
    with pytest.raises(RuntimeError, match="cannot be decrypted"):
        recent.unseal(other_key, first)  # the oldest, forgotten
