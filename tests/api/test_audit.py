"""/api/v1/audit: every write and every location read is an event; events never change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from tests.conftest import (
    API,
    Actors,
    assert_paginates,
    assert_problem,
    audit_events,
    audit_total,
    protocol_body,
    rehousing_body,
    scheme_body,
    unit_body,
    with_connection,
)
from tests.placing import create_referral, referral_body

RecordWrites = list[tuple[str, str, str]]  # (record_type, record_id, actor_role)


@pytest.fixture
def writes(actors: Actors) -> RecordWrites:
    """Create, update and retire one record of every registry kind; return what was touched."""
    touched: RecordWrites = []

    def lifecycle(who: str, role: str, path: str, record_type: str, body: Any, change: Any) -> str:
        created = actors.post(who, f"{API}/{path}", body)
        assert created.status_code == 201, created.text
        record_id = str(created.json().get("id", created.json().get("code")))
        updated = actors.patch(who, f"{API}/{path}/{record_id}", change)
        assert updated.status_code == 200, updated.text
        retired = actors.delete(who, f"{API}/{path}/{record_id}")
        assert retired.status_code == 200, retired.text
        touched.append((record_type, record_id, role))
        return record_id

    authority = {"code": "E08000001", "name": "Bolton", "region": "North West"}
    lifecycle("admin", "admin", "authorities", "authority", authority, {"name": "Bolton MBC"})
    lifecycle("admin", "admin", "providers", "provider", {"name": "P"}, {"name": "Q"})
    scheme = lifecycle(
        "provider_a",
        "provider",
        "schemes",
        "scheme",
        scheme_body(actors.provider_a),
        {"accepts_pets": True},
    )
    other_scheme = actors.post("provider_a", f"{API}/schemes", scheme_body(actors.provider_a))
    assert scheme != other_scheme.json()["id"]
    lifecycle(
        "provider_a",
        "provider",
        "units",
        "unit",
        unit_body(other_scheme.json()["id"]),
        {"version": 1, "status": "out_of_service", "out_of_service_reason": "repairs"},
    )
    lifecycle("admin", "admin", "protocols", "protocol", protocol_body(), {"notice_days": 7})
    lifecycle(
        "provider_b",
        "provider",
        "rehousing-options",
        "rehousing_option",
        rehousing_body(),
        {"bed_spaces": 2},
    )
    return touched


def test_every_write_is_an_event(actors: Actors, writes: RecordWrites) -> None:
    for record_type, record_id, role in writes:
        events = audit_events(actors, record_type=record_type, record_id=record_id)
        assert [e["action"] for e in events] == ["retire", "update", "create"], record_type
        assert {e["actor_role"] for e in events} == {role}, record_type
        for event in events:
            assert event["actor_key_id"] is not None
            assert datetime.fromisoformat(event["at"]).tzinfo is not None


def test_filters_and_paging(actors: Actors, writes: RecordWrites) -> None:
    everything = audit_events(actors)
    assert len(everything) == audit_total(actors)
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids, reverse=True)  # newest first
    assert_paginates(actors, "admin", f"{API}/audit", len(everything))

    retires = audit_events(actors, action="retire")
    assert sorted(e["record_type"] for e in retires) == sorted(w[0] for w in writes)
    assert {e["action"] for e in audit_events(actors, record_type="unit")} == {
        "create",
        "update",
        "retire",
    }
    key_id = audit_events(actors, record_type="rehousing_option")[0]["actor_key_id"]
    by_key = audit_events(actors, actor_key_id=key_id)
    assert by_key and {e["actor_key_id"] for e in by_key} == {key_id}
    assert {e["record_type"] for e in by_key} == {"rehousing_option"}

    newest = everything[0]
    since = audit_events(actors, since=newest["at"])
    assert newest["id"] in [e["id"] for e in since]
    assert all(e["at"] >= newest["at"] for e in since)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert audit_events(actors, since=future) == []
    # A time without an offset is read as UTC.
    assert audit_events(actors, since="2000-01-01T00:00:00") == everything
    naive_future = (datetime.now(UTC) + timedelta(days=1)).replace(tzinfo=None).isoformat()
    assert audit_events(actors, since=naive_future) == []
    assert audit_events(actors, record_id="no-such-record") == []


def test_reading_the_audit_is_not_itself_a_write(actors: Actors) -> None:
    before = audit_total(actors)
    audit_events(actors)
    actors.get("officer", f"{API}/units")
    assert audit_total(actors) == before


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE", "POST"])
def test_events_cannot_be_changed_through_the_api(actors: Actors, method: str) -> None:
    events = audit_events(actors)
    target = events[-1]
    for path in (f"{API}/audit/{target['id']}", f"{API}/audit"):
        response = actors.client.request(
            method, path, json={"action": "nothing"}, headers=actors.headers("admin")
        )
        assert response.status_code in (404, 405), (path, response.status_code)
    assert audit_events(actors) == events


def test_only_admins_read_the_audit(actors: Actors) -> None:
    for who in ("provider_a", "officer", "integration", "commissioner"):
        assert_problem(actors.get(who, f"{API}/audit"), 403)


# -- reads of household documents: on record before the data is used -----------------

REFUSE_AUDIT = {
    "sqlite": [
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit trail unavailable'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'audit trail unavailable'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
    ],
}


def test_a_household_read_that_cannot_be_recorded_is_refused(actors: Actors) -> None:
    body = referral_body(members=[{"age": 37, "gender": "female"}])
    referral = create_referral(actors, body=body)
    read = actors.get("officer", f"{API}/referrals/{referral['id']}")
    assert read.status_code == 200 and "37" in read.text
    dialect = make_url(actors.settings.database_url).get_backend_name()

    def refuse(conn: Connection) -> None:
        for statement in REFUSE_AUDIT[dialect]:
            conn.execute(text(statement))

    with_connection(actors.settings.database_url, refuse, commit=True)
    for path in (f"referrals/{referral['id']}", f"referrals/{referral['id']}/matches"):
        response = actors.get("officer", f"{API}/{path}")
        problem = assert_problem(response, 503)
        assert "audit" in problem["detail"]
        # (not "37": the problem's `instance` is the path, and an id may hold those digits)
        assert '"age"' not in response.text and "members" not in response.text


def test_every_household_read_is_an_event_though_the_household_is_decrypted_once(
    actors: Actors,
) -> None:
    """A worker keeps households it decrypted lately (`Unsealed`), yet each read is still
    on record: three reads of one referral (the record, then two matches) are three
    events; a household changed since is read as changed."""
    referral = create_referral(actors, body=referral_body(nrpf=False))
    path = f"{API}/referrals/{referral['id']}"
    assert actors.get("officer", path).json()["household"]["nrpf"] is False
    for _ in range(2):
        assert actors.get("officer", f"{path}/matches").status_code == 200
    reads = audit_events(actors, record_type="referral", record_id=referral["id"])
    assert sorted(e["action"] for e in reads if e["action"] != "create") == [
        "match",
        "match",
        "read",
    ]
    changed = actors.patch("officer", path, {"household": {"nrpf": True}})
    assert changed.status_code == 200, changed.text
    assert actors.get("officer", path).json()["household"]["nrpf"] is True
