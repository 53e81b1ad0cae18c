"""Matches for one household, perpetrator options, and the registry index behind them.

The index each worker keeps is checked against the `registry_changes` feed on every
request, so a change made through any app instance shows in the very next match.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import date, timedelta
from typing import Any

import aiosqlite
import litestar.handlers.base as litestar_handlers
import pytest
from sqlalchemy import Engine, event, func, make_url, select
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.orm import Session

from fixtures.seeding import seed_database
from optimiser.reasons import Reason
from placement import inline_reads, security
from placement.config import Settings
from placement.enums import Role
from placement.inline_reads import connect_read_only
from placement.matching import loaders
from placement.models import Scheme, Unit
from tests.conftest import (
    API,
    MANCHESTER,
    STOCKPORT,
    WESTMINSTER,
    Actors,
    app_client,
    assert_problem,
    protocol_body,
    rehousing_body,
)
from tests.placing import (
    STOCKPORT_SCHEME,
    accept,
    add_hatters_court,
    add_scheme,
    add_unit,
    all_keys,
    assert_no_location,
    create_referral,
    db_all,
    make_offer,
    matched_units,
    matches,
    patch_status,
    referral_body,
    settle_reads,
)

# -- ranked options ----------------------------------------------------------------------


@pytest.fixture
def five_schemes(actors: Actors) -> list[str]:
    """One unit in each of five Manchester schemes, cheapest first."""
    return [
        add_unit(actors, add_scheme(actors, name=f"House {cost}", weekly_cost=cost)["id"])["id"]
        for cost in (300.0, 400.0, 500.0, 600.0, 700.0)
    ]


def test_options_are_ranked_by_score_and_cut_at_the_limit(
    actors: Actors, five_schemes: list[str]
) -> None:
    referral = create_referral(actors)
    everything = matches(actors, referral["id"])
    assert (everything["checked"], everything["feasible"]) == (5, 5)
    scores = [o["score"] for o in everything["options"]]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 5
    # Only the cost differs between these units, so the cheapest ranks first.
    assert [o["unit_id"] for o in everything["options"]] == five_schemes
    for option in everything["options"]:
        # Shown to hundredths: each part and the total rounded once, so they add up to
        # within half a hundredth per number rounded.
        assert option["score"] == round(option["score"], 2)
        assert all(v == round(v, 2) for v in option["parts"].values())
        slack = 0.005 * (len(option["parts"]) + 1)
        assert option["score"] == pytest.approx(sum(option["parts"].values()), abs=slack)
        assert "£" in option["explanation"]

    top = matches(actors, referral["id"], limit=3)
    assert top["options"] == everything["options"][:3]
    assert (top["checked"], top["feasible"]) == (5, 5)


def test_an_option_names_the_unit_scheme_and_authority_an_officer_knows(
    actors: Actors,
) -> None:
    stockport = add_hatters_court(actors, scheme_type="dispersed_accommodation")
    unit_id = add_unit(actors, stockport["id"], label="Flat 4", bedrooms=3)["id"]
    protocol = actors.post("admin", f"{API}/protocols", protocol_body())
    assert protocol.status_code == 201, protocol.text
    referral = create_referral(actors)

    [option] = matches(actors, referral["id"])["options"]

    assert option["unit_id"] == unit_id
    assert option["area"] == {
        "scheme_id": stockport["id"],
        "scheme_name": "Hatters Court",
        "scheme_type": "dispersed_accommodation",
        "authority_code": STOCKPORT[0],
        "authority_name": "Stockport",
        "postcode_district": "SK1",
        "unit_label": "Flat 4",
        "bedrooms": 3,
    }
    explanation = option["explanation"]
    assert explanation.startswith(
        "Flat 4 (3 bedrooms) at Hatters Court, dispersed accommodation in Stockport (SK1)."
    )
    assert "Cross-border, into Stockport." in explanation
    assert STOCKPORT[0] not in explanation and stockport["id"] not in explanation


def test_an_option_shows_the_unit_as_it_now_is_after_a_booking_and_an_edit(
    actors: Actors,
) -> None:
    """Units as shown are kept per snapshot, and across bookings: an edit must still show."""
    scheme_id = add_scheme(actors)["id"]
    unit_id = add_unit(actors, scheme_id, label="Flat 1")["id"]
    other = add_unit(actors, scheme_id, label="Flat 2")["id"]
    referral = create_referral(actors)
    assert {o["area"]["unit_label"] for o in matches(actors, referral["id"])["options"]} == {
        "Flat 1",
        "Flat 2",
    }

    booked = patch_status(actors, other, "out_of_service")
    assert booked.status_code == 200, booked.text
    [option] = matches(actors, referral["id"])["options"]
    assert (option["unit_id"], option["area"]["unit_label"]) == (unit_id, "Flat 1")
    assert option["explanation"].startswith("Flat 1 (")

    version = actors.get("provider_a", f"{API}/units/{unit_id}").json()["version"]
    edited = actors.patch(
        "provider_a", f"{API}/units/{unit_id}", {"version": version, "label": "Flat 1A"}
    )
    assert edited.status_code == 200, edited.text
    [option] = matches(actors, referral["id"])["options"]
    assert option["area"]["unit_label"] == "Flat 1A"
    assert option["explanation"].startswith("Flat 1A (")


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten"])
def test_a_bad_limit_is_400(shared_actors: Actors, limit: str) -> None:
    referral = create_referral(shared_actors)
    response = shared_actors.get(
        "officer", f"{API}/referrals/{referral['id']}/matches", params={"limit": limit}
    )
    assert_problem(response, 400, "limit")


def test_ruled_out_units_are_counted_by_reason_and_the_nearest_misses_explained(
    actors: Actors, unit_a: dict[str, Any], scheme_a: dict[str, Any]
) -> None:
    """Each unit below breaks exactly one rule for a woman with a 9-year-old son."""
    broken = {
        "capacity_bed_spaces": add_unit(actors, scheme_a["id"], bed_spaces=1)["id"],
        "gender_policy": add_unit(actors, add_scheme(actors, gender_policy="men_only")["id"])["id"],
        "risk": add_unit(actors, add_scheme(actors, max_risk_level="medium")["id"])["id"],
        "protocol": add_unit(actors, add_scheme(actors, **STOCKPORT_SCHEME)["id"])["id"],
        "not_available_yet": add_unit(
            actors,
            scheme_a["id"],
            available_from=(date.today() + timedelta(days=30)).isoformat(),
        )["id"],
    }
    referral = create_referral(actors)

    found = matches(actors, referral["id"])

    assert (found["checked"], found["feasible"]) == (6, 1)
    assert [o["unit_id"] for o in found["options"]] == [unit_a["id"]]
    assert found["excluded"] == dict.fromkeys(broken, 1)
    misses = {m["unit_id"]: m for m in found["nearest_misses"]}
    assert set(misses) == set(broken.values())
    for reason, unit_id in broken.items():
        miss = misses[unit_id]
        assert miss["reasons"] == [reason]
        assert miss["explanation"] == "Ruled out: " + Reason(reason).sentence
        assert miss["area"]["postcode_district"] in ("M14", "SK1")
    assert_no_location(actors.get("officer", f"{API}/referrals/{referral['id']}/matches"))


def test_a_unit_is_counted_under_every_rule_it_breaks(
    actors: Actors, scheme_a: dict[str, Any]
) -> None:
    men_only = add_scheme(actors, gender_policy="men_only", max_risk_level="standard")
    add_unit(actors, men_only["id"], bed_spaces=1)
    found = matches(actors, create_referral(actors)["id"])
    assert found["excluded"] == {"capacity_bed_spaces": 1, "gender_policy": 1, "risk": 1}
    [miss] = found["nearest_misses"]
    assert miss["reasons"] == ["capacity_bed_spaces", "gender_policy", "risk"]


def test_a_family_is_matched_to_a_shared_refuge_room_but_not_a_small_dispersed_flat(
    actors: Actors,
) -> None:
    """A woman with two children shares a one-bedroom refuge room with three bed spaces;
    a one-bedroom dispersed flat (a home of their own) is too small under the bedroom
    standard."""
    room = add_unit(actors, add_scheme(actors)["id"], bedrooms=1, bed_spaces=3)["id"]
    flat_scheme = add_scheme(actors, scheme_type="dispersed_accommodation")
    flat = add_unit(actors, flat_scheme["id"], bedrooms=1, bed_spaces=3)["id"]
    family = [
        {"age": 29, "gender": "female"},
        {"age": 4, "gender": "male"},
        {"age": 8, "gender": "female"},
    ]
    found = matches(actors, create_referral(actors, members=family)["id"])
    assert [o["unit_id"] for o in found["options"]] == [room]
    assert found["excluded"] == {"capacity_bedrooms": 1}
    assert [m["unit_id"] for m in found["nearest_misses"]] == [flat]


# -- units that are not available are never options --------------------------------------


@pytest.fixture(scope="module")
def scheme(shared_actors: Actors) -> dict[str, Any]:
    return add_scheme(shared_actors)


def _held(actors: Actors, unit_id: str) -> None:
    make_offer(actors, create_referral(actors)["id"], unit_id)


def _occupied(actors: Actors, unit_id: str) -> None:
    accept(actors, make_offer(actors, create_referral(actors)["id"], unit_id)["id"])


def _out_of_service(actors: Actors, unit_id: str) -> None:
    assert patch_status(actors, unit_id, "out_of_service").status_code == 200


def _not_yet_available(actors: Actors, unit_id: str) -> None:
    version = actors.get("admin", f"{API}/units/{unit_id}").json()["version"]
    later = (date.today() + timedelta(days=14)).isoformat()
    response = actors.patch(
        "provider_a", f"{API}/units/{unit_id}", {"version": version, "available_from": later}
    )
    assert response.status_code == 200, response.text


def _retired(actors: Actors, unit_id: str) -> None:
    assert actors.delete("provider_a", f"{API}/units/{unit_id}").status_code == 200


UNAVAILABLE: dict[str, Callable[[Actors, str], None]] = {
    "held": _held,
    "occupied": _occupied,
    "out of service": _out_of_service,
    "not yet available": _not_yet_available,
    "retired": _retired,
}


@pytest.mark.parametrize("make_unavailable", UNAVAILABLE.values(), ids=UNAVAILABLE.keys())
def test_unavailable_units_are_never_options(
    shared_actors: Actors,
    scheme: dict[str, Any],
    make_unavailable: Callable[[Actors, str], None],
) -> None:
    actors = shared_actors
    unit_id = add_unit(actors, scheme["id"])["id"]
    referral = create_referral(actors)
    assert unit_id in matched_units(actors, referral["id"])  # the index has it

    make_unavailable(actors, unit_id)

    assert unit_id not in matched_units(actors, referral["id"])
    assert unit_id not in matched_units(actors, create_referral(actors)["id"])


# -- every change shows in the very next match, whichever app instance made it -----------


def test_a_match_on_a_current_index_is_one_statement(
    actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The referral, the change feed's position and the linked flag come in one round
    trip; with the index current, nothing else is asked of the request's database
    connection. The read audit and the match's decision snapshot are written by the
    batching writer on its own engine: the snapshot adds no statement to the request.

    That statement is read outside the request's session (which begins no transaction):
    on PostgreSQL on a connection of its own, on SQLite inline, on the event loop's
    thread, with no hop to an aiosqlite connection's thread (counted at the driver; the
    inline connection's statements are traced by SQLite itself)."""
    add_unit(actors, add_scheme(actors)["id"])
    referral = create_referral(actors)
    matches(actors, referral["id"])  # the index catches up with the new unit here
    request_engine = actors.client.app.state.sessions.kw["bind"].sync_engine
    statements: list[str] = []
    writer: list[str] = []
    begun: list[Any] = []
    connections: set[Any] = set()
    hops: list[str] = []
    inline: list[bool] = []
    queue_call = aiosqlite.Connection._execute

    def count(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if conn.engine is not request_engine:
            writer.append(statement)
        elif "api_keys" not in statement:  # a key lookup, when the key cache has expired
            statements.append(statement)
            inline.append(False)

    def count_inline(statement: str) -> None:
        if not statement.startswith("PRAGMA"):
            statements.append(statement)
            inline.append(True)

    def traced(path: Any) -> sqlite3.Connection:
        connection = connect_read_only(path)
        connection.set_trace_callback(count_inline)
        return connection

    def session_began(_session: Any, _transaction: Any, conn: Any) -> None:
        if conn.engine is request_engine:
            begun.append(conn)

    def checked_out(dbapi_connection: Any, *_: Any) -> None:
        connections.add(dbapi_connection.driver_connection)

    async def counted_hop(connection: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if connection in connections:
            hops.append(getattr(fn, "__name__", "?"))
        return await queue_call(connection, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted_hop)
    monkeypatch.setattr(inline_reads, "connect_read_only", traced)
    actors.client.app.state.runtime.inline.dispose()  # the next read opens a traced one
    listeners = (
        (Engine, "before_cursor_execute", count),
        (Session, "after_begin", session_began),
        (request_engine.pool, "checkout", checked_out),
    )
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        assert matches(actors, referral["id"])["feasible"] == 1
        settle_reads(actors)
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)
    assert len(statements) == 1, statements
    assert "registry_changes" in statements[0] and "referrals" in statements[0]
    assert [s for s in writer if "decision_snapshots" in s and s.startswith("INSERT")]
    assert begun == []
    assert inline == [actors.settings.is_sqlite]
    assert hops == []


def test_a_match_catches_the_index_up_inline_on_sqlite(actors: Actors) -> None:
    """A registry change since the last match: the next match reads the change feed and
    the changed unit to catch the index up, on SQLite through the inline session (its
    statements run on the event loop's thread: `tests/test_inline_reads.py`), elsewhere
    on the request's session; either way it sees the new unit."""
    scheme = add_scheme(actors)
    add_unit(actors, scheme["id"])
    referral = create_referral(actors)
    assert matches(actors, referral["id"])["feasible"] == 1
    add_unit(actors, scheme["id"])
    request_engine = actors.client.app.state.sessions.kw["bind"].sync_engine
    ran_on: list[str] = []

    def count(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "registry_changes" in statement or "FROM units" in statement:
            ran_on.append(conn.engine.url.drivername)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        assert matches(actors, referral["id"])["feasible"] == 2
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert ran_on, "the index caught up"
    expected = "sqlite+aiosqlite_inline" if actors.settings.is_sqlite else None
    assert set(ran_on) == {expected or request_engine.url.drivername}


def test_a_match_ends_no_transaction_of_the_request_session(actors: Actors) -> None:
    """The request's session, untouched by a match, is let go: not committed (an empty
    transaction begun to be committed, every listener run) nor rolled back. A write's
    session is committed, once (the control), and a refused one rolled back."""
    referral = create_referral(actors)
    matches(actors, referral["id"])
    request_engine = actors.client.app.state.sessions.kw["bind"].sync_engine
    ended: list[str] = []

    def commit(session: Session) -> None:
        if session.bind is request_engine:
            ended.append("commit")

    def rollback(session: Session, _previous: Any) -> None:
        if session.bind is request_engine:
            ended.append("rollback")

    def ends(request: Callable[[], Any]) -> list[str]:
        ended.clear()
        request()
        return list(ended)

    event.listen(Session, "before_commit", commit)
    event.listen(Session, "after_soft_rollback", rollback)
    try:
        assert ends(lambda: matches(actors, referral["id"])) == []
        assert ends(lambda: create_referral(actors)) == ["commit"]
        duplicate = referral_body(reference=referral["reference"])
        refused = ends(lambda: actors.post("officer", f"{API}/referrals", duplicate))
        assert refused == ["rollback"]
    finally:
        event.remove(Session, "before_commit", commit)
        event.remove(Session, "after_soft_rollback", rollback)


def test_a_match_on_postgresql_sends_no_transaction_statements(actors: Actors) -> None:
    """Read-only, a match runs outside a transaction: asyncpg sends the request's
    connection no BEGIN, COMMIT or ROLLBACK (a write, the control, sends BEGIN and COMMIT).
    SQLite's driver opens no transaction for a read in any case."""
    if actors.settings.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite opens no transaction for reads")
    referral = create_referral(actors)
    matches(actors, referral["id"])
    pool = actors.client.app.state.sessions.kw["bind"].sync_engine.pool
    sent: list[str] = []

    def log(query: Any) -> None:
        sent.append(query.query.split()[0].rstrip(";").upper())

    def listen(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(log)

    def transaction_statements(request: Callable[[], Any]) -> list[str]:
        sent.clear()
        request()
        actors.client.get("/no-such-page")  # no database; the loggers run on the app's loop
        return [s for s in sent if s in {"BEGIN", "COMMIT", "ROLLBACK"}]

    event.listen(pool, "checkout", listen)
    try:
        assert transaction_statements(lambda: matches(actors, referral["id"])) == []
        assert transaction_statements(lambda: create_referral(actors)) == ["BEGIN", "COMMIT"]
    finally:
        event.remove(pool, "checkout", listen)


def test_households_linked_by_perpetrator_are_kept_out_of_each_others_scheme(
    shared_actors: Actors, scheme: dict[str, Any]
) -> None:
    actors = shared_actors
    first_unit, second_unit = (add_unit(actors, scheme["id"])["id"] for _ in range(2))
    perpetrator = f"P-{uuid.uuid4().hex[:10]}"
    first = create_referral(actors, body={**referral_body(), "perpetrator_ref": perpetrator})
    linked = create_referral(actors, body={**referral_body(), "perpetrator_ref": perpetrator})
    unrelated = create_referral(actors)
    assert second_unit in matched_units(actors, linked["id"])

    make_offer(actors, first["id"], first_unit)

    found = matches(actors, linked["id"])
    assert second_unit not in [o["unit_id"] for o in found["options"]]
    assert found["excluded"].get("keep_apart", 0) >= 1
    assert second_unit in matched_units(actors, unrelated["id"])


@pytest.fixture(params=["same app", "another app"])
def matcher(request: pytest.FixtureRequest, shared_actors: Actors) -> Iterator[Actors]:
    """Who asks for matches: the app the changes go through, or a second one (a worker)."""
    if request.param == "same app":
        yield shared_actors
        return
    with app_client(shared_actors.settings) as client:
        yield dataclasses.replace(shared_actors, client=client)


def test_a_status_change_shows_in_the_next_match(
    shared_actors: Actors, matcher: Actors, scheme: dict[str, Any]
) -> None:
    unit_id = add_unit(shared_actors, scheme["id"])["id"]
    referral_id = create_referral(shared_actors)["id"]
    assert unit_id in matched_units(matcher, referral_id)

    assert patch_status(shared_actors, unit_id, "out_of_service").status_code == 200
    assert unit_id not in matched_units(matcher, referral_id)

    assert patch_status(shared_actors, unit_id, "available").status_code == 200
    assert unit_id in matched_units(matcher, referral_id)


def test_new_retired_and_changed_units_and_schemes_show_in_the_next_match(
    shared_actors: Actors, matcher: Actors
) -> None:
    actors = shared_actors
    referral_id = create_referral(actors)["id"]
    matched_units(matcher, referral_id)  # the matcher's index is built before the changes
    own_scheme = add_scheme(actors)
    unit_id = add_unit(actors, own_scheme["id"])["id"]
    assert unit_id in matched_units(matcher, referral_id)

    # A change to the scheme reaches its units: men only rules this household out.
    changed = actors.patch(
        "provider_a", f"{API}/schemes/{own_scheme['id']}", {"gender_policy": "men_only"}
    )
    assert changed.status_code == 200, changed.text
    assert unit_id not in matched_units(matcher, referral_id)
    actors.patch("provider_a", f"{API}/schemes/{own_scheme['id']}", {"gender_policy": "any_gender"})
    assert unit_id in matched_units(matcher, referral_id)

    # A unit's own facts: too few bed spaces, then enough.
    version = actors.get("admin", f"{API}/units/{unit_id}").json()["version"]
    actors.patch("provider_a", f"{API}/units/{unit_id}", {"version": version, "bed_spaces": 1})
    assert unit_id not in matched_units(matcher, referral_id)
    actors.patch("provider_a", f"{API}/units/{unit_id}", {"version": version + 1, "bed_spaces": 4})
    assert unit_id in matched_units(matcher, referral_id)

    # A new postcode moves the unit's area without changing what it offers.
    moved = actors.patch("provider_a", f"{API}/schemes/{own_scheme['id']}", {"postcode": "M13 9PL"})
    assert moved.status_code == 200, moved.text
    areas = {o["unit_id"]: o["area"] for o in matches(matcher, referral_id)["options"]}
    assert areas[unit_id]["postcode_district"] == "M13"

    # Retiring the unit, or its scheme.
    assert actors.delete("provider_a", f"{API}/schemes/{own_scheme['id']}").status_code == 200
    assert unit_id not in matched_units(matcher, referral_id)


def test_an_offer_made_elsewhere_shows_in_the_next_match(
    shared_actors: Actors, matcher: Actors, scheme: dict[str, Any]
) -> None:
    unit_id = add_unit(shared_actors, scheme["id"])["id"]
    referral_id = create_referral(shared_actors)["id"]
    assert unit_id in matched_units(matcher, referral_id)
    made = make_offer(shared_actors, create_referral(shared_actors)["id"], unit_id)
    assert unit_id not in matched_units(matcher, referral_id)
    withdrawn = shared_actors.post("officer", f"{API}/offers/{made['id']}/withdraw")
    assert withdrawn.status_code == 200
    assert unit_id in matched_units(matcher, referral_id)


# -- perpetrator options -----------------------------------------------------------------

HOME_IN_STOCKPORT = {"latitude": 53.41, "longitude": -2.15}


@pytest.fixture
def rehousing(actors: Actors) -> dict[str, str]:
    """A rehousing option near the victim's home in Stockport, and one in Westminster."""
    near = actors.post("provider_a", f"{API}/rehousing-options", rehousing_body())
    far = actors.post(
        "provider_a",
        f"{API}/rehousing-options",
        rehousing_body(
            authority_code=WESTMINSTER[0],
            name="Pimlico Rooms",
            postcode="SW1P 4DR",
            latitude=51.4930,
            longitude=-0.1370,
        ),
    )
    assert near.status_code == far.status_code == 201, (near.text, far.text)
    return {"near": near.json()["id"], "far": far.json()["id"]}


def test_perpetrator_options_when_a_perpetrator_move_is_possible(
    actors: Actors, rehousing: dict[str, str]
) -> None:
    referral = create_referral(
        actors,
        body={
            "reference": "MAN-PM-1",
            "risk_level": "medium",
            "household": {
                "members": [{"age": 29, "gender": "female"}],
                "home": HOME_IN_STOCKPORT,
                "perpetrator_move_possible": True,
                "perpetrator_conditions": ["dvpo"],
            },
        },
    )
    response = actors.get("officer", f"{API}/referrals/{referral['id']}/perpetrator-options")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["checked"] == 2
    [option] = result["options"]
    assert option["option_id"] == rehousing["far"]
    assert option["parts"]["perpetrator_move"] > 0
    assert option["score"] == pytest.approx(sum(option["parts"].values()))
    assert WESTMINSTER[0] in option["explanation"]
    assert result["excluded"] == {"too_close": 1}  # the one a few km from her home
    assert not {"latitude", "longitude", "address", "postcode"} & set(all_keys(result))


@pytest.mark.parametrize(
    "household",
    [
        {"members": [{"age": 29, "gender": "female"}], "home": HOME_IN_STOCKPORT},
        {"members": [{"age": 29, "gender": "female"}], "perpetrator_move_possible": True},
    ],
    ids=["move not possible", "home not known"],
)
def test_no_perpetrator_options_unless_a_move_is_possible(
    actors: Actors, rehousing: dict[str, str], household: dict[str, Any]
) -> None:
    body = {"reference": "MAN-PM-2", "risk_level": "medium", "household": household}
    referral = create_referral(actors, body=body)
    result = actors.get("officer", f"{API}/referrals/{referral['id']}/perpetrator-options").json()
    assert result["options"] == []
    assert result["excluded"] == {"perpetrator_move_not_possible": 2}


# -- against the Greater Manchester demo registry ----------------------------------------


@pytest.fixture
def demo(migrated_settings: Settings) -> Iterator[Actors]:
    """The demo dataset (Greater Manchester), and a Manchester officer's key."""
    report = asyncio.run(seed_database(migrated_settings, "demo", 1))
    assert report.seeded
    with app_client(migrated_settings) as client:
        world = Actors(client=client, settings=migrated_settings)
        world.keys["officer"] = world.new_key(Role.HOUSING_OFFICER, authority_code=MANCHESTER[0])
        world.keys["admin"] = world.new_key(Role.ADMIN)
        yield world


def _matchable_units(settings: Settings) -> int:
    [(count,)] = db_all(
        settings,
        select(func.count())
        .select_from(Unit)
        .join(Scheme, Scheme.id == Unit.scheme_id)
        .where(Unit.status == "available", Unit.retired_at.is_(None), Scheme.retired_at.is_(None)),
    )
    return int(count)


def test_matches_against_the_demo_registry(demo: Actors) -> None:
    seeded = demo.get("officer", f"{API}/referrals", params={"status": "open", "limit": 5})
    assert seeded.json()["total"] > 0
    referral_ids = [r["id"] for r in seeded.json()["items"]]
    referral_ids.append(create_referral(demo)["id"])
    reasons = {str(r) for r in Reason}
    for referral_id in referral_ids:
        response = demo.get(
            "officer", f"{API}/referrals/{referral_id}/matches", params={"limit": 10}
        )
        assert response.status_code == 200, response.text
        assert_no_location(response)
        found = response.json()
        assert found["checked"] == _matchable_units(demo.settings)
        assert len(found["options"]) == min(10, found["feasible"])
        scores = [o["score"] for o in found["options"]]
        assert scores == sorted(scores, reverse=True)
        assert set(found["excluded"]) <= reasons
        assert all(set(m["reasons"]) <= reasons for m in found["nearest_misses"])
        for option in found["options"]:
            unit = demo.get("officer", f"{API}/units/{option['unit_id']}").json()
            assert unit["status"] == "available"
            assert unit["postcode_district"] == option["area"]["postcode_district"]
            assert unit["authority_code"] == option["area"]["authority_code"]
    # The household registered here (Manchester, no special needs) has options.
    assert found["feasible"] > 0 and uuid.UUID(found["referral_id"])


def test_a_match_request_runs_nothing_in_a_worker_thread_nor_another_task(
    actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards, the query check and the limiters' key check are coroutines or run inline:
    a sync callable Litestar is not told otherwise about runs in the loop's executor, a
    thread hop per request. Nor does resolving the match's dependencies start tasks (as
    Litestar does for two of one level): a match starts no more tasks than /health (whose
    own are the test client's). The control (a sync callable sent to the executor) is
    counted."""
    referral = create_referral(actors)
    matches(actors, referral["id"])
    sent: list[Any] = []
    tasks: list[Any] = []
    run_in_executor = asyncio.BaseEventLoop.run_in_executor
    create_task = asyncio.BaseEventLoop.create_task

    def counting(loop: Any, executor: Any, func: Any, *args: Any) -> Any:
        sent.append(func)
        return run_in_executor(loop, executor, func, *args)

    def counting_tasks(loop: Any, coro: Any, **kwargs: Any) -> Any:
        # SQLAlchemy closes a session left by `async with` in a task of its own (shielded
        # from cancellation): /health's, and the read-audit writer's whenever it writes.
        if coro.__qualname__ != "AsyncSession.close":
            tasks.append(coro.__qualname__)
        return create_task(loop, coro, **kwargs)

    monkeypatch.setattr(asyncio.BaseEventLoop, "run_in_executor", counting)
    monkeypatch.setattr(asyncio.BaseEventLoop, "create_task", counting_tasks)
    assert actors.client.get("/health").status_code == 200
    health_tasks, tasks[:] = len(tasks), []
    assert matches(actors, referral["id"])["checked"] >= 0
    assert sent == []
    assert len(tasks) <= health_tasks, tasks

    async def hop() -> None:
        await asyncio.get_running_loop().run_in_executor(None, len, "x")

    actors.client.blocking_portal.call(hop)
    assert len(sent) == 1


@pytest.mark.parametrize("statement", ["MATCH_READ", "CASE_READ"])
def test_the_linked_flag_finds_other_referrals_by_perpetrator_not_by_authority(
    actors: Actors, statement: str
) -> None:
    """Whether another referral names the same perpetrator is looked up through the
    perpetrator's reference (nearly unique): SQLite, without statistics, chose the
    authority's index for the same-authority term and read every referral of the
    authority on each match. PostgreSQL plans from its statistics; SQLite's plan is the
    one checked here, on the migrated schema."""
    if not actors.settings.is_sqlite:
        pytest.skip("SQLite's planner only: PostgreSQL plans from statistics")
    compiled = getattr(loaders, statement).compile(dialect=sqlite_dialect())
    bound = {**compiled.params, "referral_id": b"\0" * 16, "authority_code": "E08000003"}
    parameters = [
        str(bound[name]) if name == "status_1" else bound[name]
        for name in compiled.positiontup or ()
    ]
    path = make_url(actors.settings.database_url).database
    with closing(sqlite3.connect(str(path))) as connection:
        plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {compiled}", parameters)]
    others = [step for step in plan if step.startswith("SEARCH referrals_1")]
    assert others == [
        "SEARCH referrals_1 USING INDEX ix_referrals_perpetrator_ref (perpetrator_ref=?)"
    ], plan


def test_a_match_request_copies_no_route_handler_for_its_guard(
    actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The match routes' guard is given the handler itself (`get_guarded`, a
    `GuardedInPlace`): Litestar's copy of the handler per guard per request is not made.
    It still refuses a role that may not match (403). The control, reading the referral,
    is copied as Litestar does."""
    referral = create_referral(actors)
    copies: list[Any] = []
    copy = litestar_handlers.copy

    def counted(handler: Any) -> Any:
        copies.append(handler)
        return copy(handler)

    monkeypatch.setattr(litestar_handlers, "copy", counted)
    assert matches(actors, referral["id"])["checked"] >= 0
    assert copies == []
    refused = actors.get("provider_a", f"{API}/referrals/{referral['id']}/matches")
    assert_problem(refused, 403)
    assert actors.get("officer", f"{API}/referrals/{referral['id']}").status_code == 200
    assert len(copies) == 1


def test_a_request_with_a_checked_key_hashes_it_once(
    actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limiter of unchecked keys looks the key up in the worker's cache, and the key
    check after it takes what it found (`api.auth.LOOKED_UP`): one hash of the key a
    request, not one each. An unknown key is still refused (401)."""
    referral = create_referral(actors)
    matches(actors, referral["id"])  # the officer's key is in the cache now
    hashed: list[str] = []
    hash_key = security.hash_key

    def counted(key: str) -> str:
        hashed.append(key)
        return hash_key(key)

    monkeypatch.setattr(security, "hash_key", counted)
    assert matches(actors, referral["id"])["checked"] >= 0
    assert len(hashed) == 1
    unknown = actors.client.get(
        f"{API}/referrals/{referral['id']}/matches", headers={"Authorization": "Bearer nope"}
    )
    assert_problem(unknown, 401)
