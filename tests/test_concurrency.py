"""No double booking, under truly concurrent requests against a real server.

The service runs as `python -m placement serve --workers 2` (two processes sharing only
the database), and each race is N threads that open their connections, wait at one
barrier, then send their requests together. Whoever wins, the database must end in a
state that one of the requests alone could have produced: one live offer per unit, one
decision per offer, one placement per household, one address reveal per placement, one
referral, offer or reveal per idempotency key (its retries get the first answer).

Runs on SQLite and, with PLACEMENT_TEST_POSTGRES_URL set, on PostgreSQL. One server and
database per backend for the module (each test works on units and referrals of its own),
and one more for the race whose losers hit a database constraint (see `live_alone`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from placement.audit_chain import Intact, verify
from placement.config import Settings
from placement.enums import Role
from placement.models import AuditEvent, Offer, Placement, Referral, Unit
from tests.conftest import (
    API,
    BACKENDS,
    MANCHESTER,
    PROBLEM_JSON,
    Actors,
    app_client,
    fresh_database,
    populate,
    settings_for,
    with_connection,
)
from tests.placing import (
    add_scheme,
    add_unit,
    create_referral,
    db_all,
    make_offer,
    place,
    referral_body,
)

REPO = Path(__file__).resolve().parent.parent
WORKERS = 2  # as `serve --workers 2` below
OFFICER_KEYS = 4
RACERS = 8
STARTUP_SECONDS = 90.0


# -- the server ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ready(base: str, log: Path) -> bool:
    """/health answers with the database reachable, and every worker has started."""
    try:
        health = httpx.get(f"{base}/health", timeout=2)
    except httpx.HTTPError:
        return False
    started = log.read_text(errors="replace").count("Application startup complete")
    return (
        health.status_code == 200
        and health.json()["database"] == "reachable"
        and (started >= WORKERS)
    )


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def start_server(settings: Settings, folder: Path) -> Server:
    port = _free_port()
    log = folder / "server.log"
    env = {
        **os.environ,
        "PLACEMENT_DATABASE_URL": settings.database_url,
        "PLACEMENT_DATA_DIR": str(settings.data_dir),
        "PLACEMENT_SECRET_KEY": settings.secret_key or "",
        "PLACEMENT_RATE_LIMIT_PER_MINUTE": "1000000",
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "placement", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=REPO,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while not _ready(server.base, log):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_server(server)
            pytest.fail(f"the service did not start:\n{server.tail()}")
        time.sleep(0.1)
    return server


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)


# -- one database, one server, one registry per backend ----------------------------------


@dataclass
class Live:
    """The running service, and an in-process app on the same database for the setup."""

    server: Server
    settings: Settings
    actors: Actors
    schemes: dict[str, str]
    """A scheme of each provider (provider_a, provider_b)."""
    officer_keys: list[str] = field(default_factory=list)

    def unit(self, provider: str = "provider_a") -> str:
        return str(add_unit(self.actors, self.schemes[provider], provider)["id"])

    def referrals(self, count: int) -> list[str]:
        return [str(create_referral(self.actors)["id"]) for _ in range(count)]


@contextmanager
def running(request: pytest.FixtureRequest, folder: Path) -> Iterator[Live]:
    """A fresh database with a registry, several officers' keys, and the served app."""
    with fresh_database(str(request.param), folder, request) as url:
        settings = settings_for(url, folder)
        with app_client(settings) as client:
            actors = populate(client, settings)
            schemes = {
                who: str(add_scheme(actors, who)["id"]) for who in ("provider_a", "provider_b")
            }
            officer_keys = [
                actors.new_key(Role.HOUSING_OFFICER, authority_code=MANCHESTER[0])
                for _ in range(OFFICER_KEYS)
            ]
            server = start_server(settings, folder)
            try:
                yield Live(server, settings, actors, schemes, officer_keys)
            finally:
                stop_server(server)


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """One service per backend for the races that each work on records of their own."""
    with running(request, tmp_path_factory.mktemp(f"live-{request.param}")) as served:
        yield served


@pytest.fixture(params=BACKENDS)
def live_alone(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    """A service of its own, for a race whose losers hit a database constraint.

    Known SQLite hazard (aiosqlite): a statement that fails leaves its cursor to the
    garbage collector; if the collector runs on the event loop while that connection is
    waiting for the write lock in its thread, the whole worker freezes until the busy
    timeout (30 s) and the requests queued behind it fail with "database is locked".
    Kept apart so that the constraint errors of this race cannot stall the other races.
    """
    with running(request, tmp_path) as served:
        yield served


# -- racing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request of a race; `about` names the record it races for."""

    key: str
    path: str
    about: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"


@dataclass(frozen=True)
class Outcome:
    call: Call
    status: int
    body: dict[str, Any]
    content_type: str
    replayed: bool


def race(live: Live, calls: Sequence[Call]) -> list[Outcome]:
    """Send every call at once: each thread connects, waits at the barrier, then sends."""
    barrier = threading.Barrier(len(calls))

    def run(call: Call) -> Outcome:
        with httpx.Client(base_url=live.server.base, timeout=60) as http:
            assert http.get("/health").status_code == 200  # the connection is open
            barrier.wait(timeout=60)
            response = http.request(
                call.method,
                call.path,
                json=call.body,
                headers={"Authorization": f"Bearer {call.key}", **call.headers},
            )
        return Outcome(
            call,
            response.status_code,
            response.json() if response.content else {},
            response.headers.get("content-type", ""),
            response.headers.get("idempotent-replayed") == "true",
        )

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        outcomes = list(pool.map(run, calls))
    errors = [o for o in outcomes if o.status >= 500]
    assert not errors, f"server errors: {errors}\n{live.server.tail()}"
    return outcomes


def statuses(outcomes: Sequence[Outcome]) -> Counter[int]:
    return Counter(o.status for o in outcomes)


def about(outcomes: Sequence[Outcome], record_id: str) -> list[Outcome]:
    return [o for o in outcomes if o.call.about == record_id]


def assert_conflict(outcome: Outcome, *phrases: str) -> None:
    """A 409 problem document whose detail says why, in the words given."""
    assert outcome.status == 409, outcome
    assert outcome.content_type.startswith(PROBLEM_JSON), outcome
    assert outcome.body["status"] == 409 and outcome.body["title"] == "Conflict", outcome
    detail = str(outcome.body["detail"])
    assert any(phrase in detail for phrase in phrases), outcome


def live_offers(live: Live, unit_id: str) -> list[tuple[Any, ...]]:
    return db_all(
        live.settings,
        select(Offer.id, Offer.referral_id).where(
            Offer.unit_id == uuid.UUID(unit_id), Offer.status == "live"
        ),
    )


def unit_row(live: Live, unit_id: str) -> tuple[Any, ...]:
    [row] = db_all(
        live.settings, select(Unit.status, Unit.version).where(Unit.id == uuid.UUID(unit_id))
    )
    return row


# -- the races ---------------------------------------------------------------------------


def test_officers_racing_for_one_unit_get_one_201_and_409s(live: Live) -> None:
    """N officers (several keys, one authority) offer the same unit at the same moment."""
    unit_id = live.unit()
    referral_ids = live.referrals(RACERS)
    calls = [
        Call(
            live.officer_keys[i % len(live.officer_keys)],
            f"{API}/offers",
            unit_id,
            {"referral_id": referral_id, "unit_id": unit_id},
        )
        for i, referral_id in enumerate(referral_ids)
    ]

    outcomes = race(live, calls)

    assert statuses(outcomes) == {201: 1, 409: RACERS - 1}, outcomes
    [winner] = [o for o in outcomes if o.status == 201]
    for loser in (o for o in outcomes if o.status == 409):
        assert_conflict(loser, f"unit {unit_id} is held, not available")
        assert loser.body["unit_status"] == "held"
    assert winner.body["status"] == "live" and winner.body["unit_id"] == unit_id
    assert winner.call.body is not None
    [(offer_id, referral_id)] = live_offers(live, unit_id)
    assert str(offer_id) == winner.body["id"]
    assert str(referral_id) == winner.body["referral_id"] == winner.call.body["referral_id"]
    every_offer = db_all(live.settings, select(Offer.id).where(Offer.unit_id == uuid.UUID(unit_id)))
    assert len(every_offer) == 1
    assert unit_row(live, unit_id)[0] == "held"
    # A loser's referral is untouched: it can still be offered another unit.
    loser = next(o for o in outcomes if o.status == 409)
    assert loser.call.body is not None
    make_offer(live.actors, loser.call.body["referral_id"], live.unit())


def test_accept_racing_withdraw_has_one_winner_per_offer(live: Live) -> None:
    """The provider accepts while the officer withdraws, on several offers at once."""
    pairs = 3
    units = [live.unit() for _ in range(pairs)]
    referrals = live.referrals(pairs)
    offers = [make_offer(live.actors, r, u)["id"] for r, u in zip(referrals, units, strict=True)]
    calls = []
    for i, offer_id in enumerate(offers):
        calls.append(
            Call(live.actors.keys["provider_a"], f"{API}/offers/{offer_id}/accept", offer_id)
        )
        calls.append(Call(live.officer_keys[i], f"{API}/offers/{offer_id}/withdraw", offer_id))

    outcomes = race(live, calls)

    for offer_id, unit_id, referral_id in zip(offers, units, referrals, strict=True):
        mine = about(outcomes, offer_id)
        assert statuses(mine) == {200: 1, 409: 1}, mine
        [won] = [o for o in mine if o.status == 200]
        [lost] = [o for o in mine if o.status == 409]
        assert_conflict(lost, "only a live offer can be", "decided by someone else")
        [(status,)] = db_all(
            live.settings, select(Offer.status).where(Offer.id == uuid.UUID(offer_id))
        )
        placements = db_all(
            live.settings, select(Placement.id).where(Placement.offer_id == uuid.UUID(offer_id))
        )
        [(referral_status,)] = db_all(
            live.settings,
            select(Referral.status).where(Referral.id == uuid.UUID(referral_id)),
        )
        if won.call.path.endswith("/accept"):
            assert won.body["offer"]["status"] == status == "accepted"
            assert (unit_row(live, unit_id)[0], len(placements), referral_status) == (
                "occupied",
                1,
                "placed",
            )
        else:
            assert won.body["status"] == status == "withdrawn"
            assert (unit_row(live, unit_id)[0], len(placements), referral_status) == (
                "available",
                0,
                "open",
            )


def test_two_providers_accepting_offers_for_one_household_place_it_once(live: Live) -> None:
    """Each household was offered a unit of each provider; both accept at the same moment."""
    referrals = live.referrals(3)
    offers: dict[str, dict[str, str]] = {}
    calls = []
    for referral_id in referrals:
        offers[referral_id] = {
            who: make_offer(live.actors, referral_id, live.unit(who))["id"]
            for who in ("provider_a", "provider_b")
        }
        calls += [
            Call(live.actors.keys[who], f"{API}/offers/{offer_id}/accept", referral_id)
            for who, offer_id in offers[referral_id].items()
        ]

    outcomes = race(live, calls)

    for referral_id in referrals:
        mine = about(outcomes, referral_id)
        assert statuses(mine) == {200: 1, 409: 1}, mine
        [won] = [o for o in mine if o.status == 200]
        [lost] = [o for o in mine if o.status == 409]
        assert_conflict(lost, "no longer waiting", "only a live offer", "decided by someone else")
        rows = db_all(
            live.settings,
            select(Offer.status, Unit.status)
            .join(Unit, Unit.id == Offer.unit_id)
            .where(Offer.referral_id == uuid.UUID(referral_id))
            .order_by(Offer.status),
        )
        assert sorted((str(o), str(u)) for o, u in rows) == [
            ("accepted", "occupied"),
            ("withdrawn", "available"),
        ]
        [(placement_offer,)] = db_all(
            live.settings,
            select(Placement.offer_id).where(Placement.referral_id == uuid.UUID(referral_id)),
        )
        assert str(placement_offer) == won.body["offer"]["id"]


def test_two_reveals_of_one_address_show_it_once(live: Live) -> None:
    placements = [place(live.actors, r, live.unit()) for r in live.referrals(3)]
    calls = [
        Call(key, f"{API}/placements/{p['id']}/address", p["id"])
        for p in placements
        for key in (live.officer_keys[0], live.officer_keys[1])
    ]

    outcomes = race(live, calls)

    for placement in placements:
        mine = about(outcomes, placement["id"])
        assert statuses(mine) == {200: 1, 409: 1}, mine
        [shown] = [o for o in mine if o.status == 200]
        assert "Example Road" in shown.body["address"] and shown.body["postcode"] == "M14 6AB"
        [refused] = [o for o in mine if o.status == 409]
        assert_conflict(refused, "already been shown")
        assert "Example Road" not in str(refused.body)
        reveals = db_all(
            live.settings,
            select(func.count()).where(
                AuditEvent.record_type == "placement",
                AuditEvent.record_id == placement["id"],
                AuditEvent.action == "reveal_address",
            ),
        )
        assert reveals == [(1,)]


def test_racing_retries_with_one_idempotency_key_create_one_referral(live_alone: Live) -> None:
    """An integration's retries overlap: one referral; each answer a replay or a 409 to retry."""
    live = live_alone
    body = referral_body()
    key = live.actors.keys["integration"]
    retry = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    calls = [Call(key, f"{API}/referrals", body["reference"], body, retry) for _ in range(6)]

    outcomes = race(live, calls)

    rows = db_all(live.settings, select(Referral.id).where(Referral.reference == body["reference"]))
    assert len(rows) == 1, rows
    [(referral_id,)] = rows
    assert statuses(outcomes)[201] >= 1, outcomes
    for outcome in outcomes:
        if outcome.status == 201:
            assert outcome.body["id"] == str(referral_id)
        else:  # lost the insert race: told to retry, and nothing of its own was written
            assert_conflict(outcome, "retry")
    retried = race(live, calls[:1])
    assert retried[0].status == 201 and retried[0].replayed
    assert retried[0].body["id"] == str(referral_id)


def test_status_change_racing_an_offer_never_both_succeed(live: Live) -> None:
    """A provider takes a unit out of service while an officer offers it."""
    units = [live.unit() for _ in range(3)]
    referrals = live.referrals(3)
    calls = []
    for unit_id, referral_id, officer in zip(units, referrals, live.officer_keys, strict=False):
        version = unit_row(live, unit_id)[1]
        calls.append(
            Call(
                live.actors.keys["provider_a"],
                f"{API}/units/{unit_id}",
                unit_id,
                {"version": version, "status": "out_of_service"},
                method="PATCH",
            )
        )
        calls.append(
            Call(
                officer,
                f"{API}/offers",
                unit_id,
                {"referral_id": referral_id, "unit_id": unit_id},
            )
        )

    outcomes = race(live, calls)

    for unit_id in units:
        mine = about(outcomes, unit_id)
        assert sorted(o.status for o in mine) in ([200, 409], [201, 409]), mine
        offered = any(o.status == 201 for o in mine)
        [lost] = [o for o in mine if o.status == 409]
        if offered:  # the provider's change came second: the unit is held, or its version moved
            assert_conflict(lost, "has a live offer", "has changed since version")
        else:
            assert_conflict(lost, f"unit {unit_id} is out_of_service, not available")
        status, _ = unit_row(live, unit_id)
        assert status == ("held" if offered else "out_of_service")
        assert len(live_offers(live, unit_id)) == (1 if offered else 0)


def test_racing_retries_of_one_offer_hold_the_unit_once(live: Live) -> None:
    """An officer's retries of one offer overlap: one offer, and every answer is it."""
    unit_id = live.unit()
    [referral_id] = live.referrals(1)
    retry = {"Idempotency-Key": f"offer-{uuid.uuid4()}"}
    body = {"referral_id": referral_id, "unit_id": unit_id}
    calls = [Call(live.officer_keys[0], f"{API}/offers", unit_id, body, retry)] * RACERS

    outcomes = race(live, calls)

    [(offer_id, _)] = live_offers(live, unit_id)
    assert statuses(outcomes) == {201: RACERS}, outcomes
    assert {o.body["id"] for o in outcomes} == {str(offer_id)}
    assert sum(not o.replayed for o in outcomes) == 1, outcomes
    every_offer = db_all(live.settings, select(Offer.id).where(Offer.unit_id == uuid.UUID(unit_id)))
    assert len(every_offer) == 1


def test_racing_retries_of_one_reveal_reveal_it_once(live: Live) -> None:
    """The retries of one reveal all get the address; one reveal, each replay a read."""
    placement = place(live.actors, live.referrals(1)[0], live.unit())
    retry = {"Idempotency-Key": f"reveal-{uuid.uuid4()}"}
    path = f"{API}/placements/{placement['id']}/address"
    calls = [Call(live.officer_keys[0], path, placement["id"], None, retry)] * RACERS

    outcomes = race(live, calls)

    assert statuses(outcomes) == {200: RACERS}, outcomes
    assert all(o.body["postcode"] == "M14 6AB" for o in outcomes)
    assert sum(not o.replayed for o in outcomes) == 1, outcomes
    actions = db_all(
        live.settings,
        select(AuditEvent.action, func.count())
        .where(AuditEvent.record_type == "placement", AuditEvent.record_id == placement["id"])
        .group_by(AuditEvent.action),
    )
    assert dict(actions) == {"create": 1, "reveal_address": 1, "read_address": RACERS - 1}


def test_racing_retries_of_one_allocation_run_answer_with_one_run(live: Live) -> None:
    """Retries of a run overlap: each may solve, but one run is kept and every answer is it."""
    [referral_id] = live.referrals(1)
    retry = {"Idempotency-Key": f"run-{uuid.uuid4()}"}
    body = {"referral_ids": [referral_id], "time_limit_s": 10}
    calls = [Call(live.officer_keys[0], f"{API}/allocations", referral_id, body, retry)] * RACERS

    outcomes = race(live, calls)

    assert statuses(outcomes) == {200: RACERS}, outcomes
    assert sum(not o.replayed for o in outcomes) == 1, outcomes
    [first] = [o for o in outcomes if not o.replayed]
    assert all(o.body == first.body for o in outcomes)
    runs = db_all(
        live.settings, select(AuditEvent.record_id).where(AuditEvent.record_type == "allocation")
    )
    assert runs == [(first.body["run_id"],)]


def test_two_workers_appending_at_once_keep_one_audit_chain(live: Live) -> None:
    """Matches (each worker's read audit writer) and new referrals (events committed with
    their own transactions) on both workers at once: the log is still one chain."""
    referrals = live.referrals(4)
    calls = [
        Call(key, f"{API}/referrals/{referral}/matches", referral, method="GET")
        for referral in referrals
        for key in live.officer_keys
    ] + [Call(key, f"{API}/referrals", key, referral_body()) for key in live.officer_keys * 2]

    assert set(statuses(race(live, calls))) == {200, 201}

    verdict = with_connection(live.settings.database_url, verify)
    events = db_all(live.settings, select(func.count()).select_from(AuditEvent))
    assert isinstance(verdict, Intact), verdict
    assert [(verdict.events,)] == events
