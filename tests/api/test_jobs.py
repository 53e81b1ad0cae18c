"""Long runs as jobs: a what-if's result, who may see it, and jobs that outlive the
process running them (the service on SQLite, `placement worker` on PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from placement.cli import main
from placement.config import Settings
from placement.crypto import Cipher, load_cipher
from placement.db import create_engine
from placement.jobs.whatif import prepare
from placement.jobs.world import world_of
from placement.matching.index import RegistryIndex
from placement.models import Job
from placement.roles import Role
from simulation.compare import compare
from simulation.policies import policy_named
from simulation.whatif import what_if
from tests.conftest import (
    API,
    CAMDEN,
    MANCHESTER,
    STOCKPORT,
    WESTMINSTER,
    Actors,
    app_client,
    assert_problem,
    populate,
    protocol_body,
    with_connection,
)
from tests.job_gate import create_gate_job
from tests.jobs_support import fast, job, runner, until_status, wait_for, worker
from tests.placing import add_scheme, add_unit, create_referral, row_counts

ROOT = Path(__file__).resolve().parents[2]


def furnish(actors: Actors) -> None:
    """Two Manchester units and three households referred there."""
    scheme = add_scheme(actors)
    add_unit(actors, scheme["id"])
    add_unit(actors, scheme["id"], bedrooms=2, bed_spaces=4)
    for _ in range(3):
        create_referral(actors)


CHANGE: dict[str, Any] = {"action": "add", "count": 2, "authority_code": MANCHESTER[0]}
WHAT_IF: dict[str, Any] = {
    "change": CHANGE,
    "days": 60,
    "seeds": 2,
}


@pytest.fixture
def job_actors(migrated_settings: Settings) -> Iterator[Actors]:
    """Actors on an app that polls fast; in-process on SQLite, queued on PostgreSQL."""
    with app_client(fast(migrated_settings)) as client:
        actors = populate(client, fast(migrated_settings))
        actors.keys["london"] = actors.new_key(Role.COMMISSIONER, region="Greater London")
        yield actors


# -- a what-if as a job ---------------------------------------------------------------


def test_a_what_if_job_gives_what_the_simulation_gives_on_the_same_world(
    job_actors: Actors, tmp_path: Path
) -> None:
    furnish(job_actors)
    response = job_actors.post("commissioner", f"{API}/what-if", WHAT_IF)
    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["location"] == f"{API}/jobs/{body['id']}" == body["links"]["self"]
    assert body["status"] == "queued" and body["kind"] == "what_if"
    with runner(job_actors.settings):
        done = until_status(job_actors, body["id"], "succeeded", "failed")
    assert done["status"] == "succeeded", done["error"]
    assert done["progress"] == 1.0 and done["attempts"] == 1
    assert done["result"] == direct_what_if(job_actors.settings, done["parameters"])
    # The command line shows the same job (after its progress bar, on stderr).
    env = {"PLACEMENT_DATABASE_URL": job_actors.settings.database_url}
    shown = CliRunner().invoke(main, ["job", body["id"], "--wait"], env=env)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["result"] == done["result"]
    # More units can only have been compared against the same arrivals: the baseline's
    # figures are the same on both sides of a change that adds nothing in that time.
    assert done["result"]["seeds"] == 2


T = TypeVar("T")


def from_registry(
    settings: Settings, build: Callable[[AsyncSession, Cipher, RegistryIndex], Awaitable[T]]
) -> T:
    """What ``build`` makes of the database's registry, with an engine, cipher and
    index of its own (as a job's runner has), outside the service."""

    async def run() -> T:
        engine = create_engine(settings, connections=1)
        cipher = load_cipher(settings)
        index = RegistryIndex(cipher, settings.self_contained_types())
        try:
            async with async_sessionmaker(engine)() as session:
                return await build(session, cipher, index)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def direct_what_if(settings: Settings, parameters: dict[str, Any]) -> dict[str, Any]:
    """`simulation.whatif` run directly on the world the job's parameters name."""
    weights = settings.match_weights()
    world, change = from_registry(
        settings,
        lambda session, cipher, index: prepare(session, cipher, index, parameters, weights),
    )
    policy = policy_named(parameters["policy"], parameters["batch_hours"])
    seeds = range(1, parameters["seeds"] + 1)
    return what_if(world, change, policy, seeds, parameters["days"])


def test_a_what_if_is_for_commissioners_of_their_own_area(job_actors: Actors) -> None:
    assert_problem(job_actors.post("officer", f"{API}/what-if", WHAT_IF), 403)
    # Another region's commissioner asking for Greater Manchester: as if it did not exist.
    other = job_actors.post("london", f"{API}/what-if", {**WHAT_IF, "region": "Greater Manchester"})
    assert_problem(other, 404)
    # Units added outside the commissioner's area.
    elsewhere = {**WHAT_IF, "change": {**CHANGE, "authority_code": WESTMINSTER[0]}}
    assert_problem(
        job_actors.post("commissioner", f"{API}/what-if", elsewhere), 422, "change.authority_code"
    )
    created = job_actors.post("commissioner", f"{API}/what-if", WHAT_IF).json()
    # The job is seen by its area's commissioner and an admin, by nobody else.
    assert job(job_actors, created["id"], "commissioner")["id"] == created["id"]
    assert_problem(job_actors.get("london", f"{API}/jobs/{created['id']}"), 404)
    assert_problem(job_actors.get("officer", f"{API}/jobs/{created['id']}"), 404)
    assert_problem(job_actors.post("london", f"{API}/jobs/{created['id']}/cancel"), 404)
    assert_problem(job_actors.get("admin", f"{API}/jobs/{uuid.uuid4()}"), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**WHAT_IF, "change": {**CHANGE, "count": 0}}, "change.count"),
        ({**WHAT_IF, "seeds": 11}, "seeds"),
        (
            {**WHAT_IF, "change": {**CHANGE, "scheme_type": "hotel"}},
            "change.scheme_type",
        ),
        ({**WHAT_IF, "surprise": 1}, "surprise"),
    ],
)
def test_a_bad_what_if_is_refused_naming_the_field(
    job_actors: Actors, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(job_actors.post("commissioner", f"{API}/what-if", body), 400)
    assert field in problem["detail"] or field in str(problem.get("errors"))


# -- a what-if that changes a protocol --------------------------------------------------


def make_protocol(actors: Actors, **overrides: Any) -> str:
    response = actors.post("admin", f"{API}/protocols", protocol_body(**overrides))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_protocol_what_if_job_gives_what_the_simulation_gives_on_the_same_world(
    job_actors: Actors,
) -> None:
    furnish(job_actors)
    stockport: dict[str, Any] = {"latitude": STOCKPORT[4], "longitude": STOCKPORT[5]}
    stockport["postcode"] = "SK1 3XE"
    scheme = add_scheme(job_actors, authority_code=STOCKPORT[0], **stockport)
    add_unit(job_actors, scheme["id"])
    protocol_id = make_protocol(job_actors)
    leave = {"action": "leave", "protocol_id": protocol_id, "authority_code": STOCKPORT[0]}
    response = job_actors.post(
        "commissioner", f"{API}/what-if", {"protocol": leave, "days": 60, "seeds": 2}
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["parameters"]["protocol"] == leave and body["parameters"]["change"] is None
    with runner(job_actors.settings):
        done = until_status(job_actors, body["id"], "succeeded", "failed")
    assert done["status"] == "succeeded", done["error"]
    assert done["result"] == direct_what_if(job_actors.settings, done["parameters"])
    # The direct run is of the protocol's change: without Stockport in it, the protocol
    # of two is none.
    world, change = from_registry(
        job_actors.settings,
        lambda session, cipher, index: prepare(
            session, cipher, index, done["parameters"], job_actors.settings.match_weights()
        ),
    )
    assert protocol_id in {p.id for p in world.protocols}
    assert protocol_id not in {p.id for p in change.apply(world).protocols}


@pytest.mark.parametrize(
    ("protocol", "status", "field"),
    [
        ({"action": "join", "authority_code": MANCHESTER[0]}, 422, "protocol.authority_code"),
        ({"action": "leave", "authority_code": "E08000002"}, 422, "protocol.authority_code"),
        ({"action": "leave", "authority_code": WESTMINSTER[0]}, 422, "protocol.authority_code"),
        ({"action": "swap", "authority_code": MANCHESTER[0]}, 400, "protocol.action"),
        ({"action": "leave", "protocol_id": "not-an-id"}, 400, "protocol.protocol_id"),
        ({"action": "leave", "protocol_id": str(uuid.uuid4())}, 404, None),
        ({"action": "leave", "london": True}, 404, None),
    ],
)
def test_a_bad_protocol_what_if_is_refused_naming_the_field_and_queues_nothing(
    job_actors: Actors, protocol: dict[str, Any], status: int, field: str | None
) -> None:
    """Joining as a member, leaving as none, an authority outside the area, no such
    action or id, and a protocol with no member in the area (as if it did not exist)."""
    gm = make_protocol(job_actors)
    london = make_protocol(job_actors, name="London", members=[WESTMINSTER[0], CAMDEN[0]])
    asked = {"protocol_id": london if protocol.get("london") else gm}
    asked |= {"authority_code": MANCHESTER[0], **protocol}
    asked.pop("london", None)
    jobs_before = row_counts(job_actors.settings, "jobs")
    response = job_actors.post("commissioner", f"{API}/what-if", {"protocol": asked})
    assert_problem(response, status, field if status == 422 else None)
    if status == 400:
        assert field is not None
        assert field in response.json()["detail"] or field in str(response.json().get("errors"))
    assert row_counts(job_actors.settings, "jobs") == jobs_before


@pytest.mark.parametrize("both", [False, True])
def test_a_what_if_asks_about_one_change(job_actors: Actors, both: bool) -> None:
    """Neither a registry change nor a protocol's, or both: refused, naming `change`."""
    body: dict[str, Any] = {"days": 30}
    if both:
        leave = {"action": "leave", "protocol_id": make_protocol(job_actors)}
        body |= {"change": CHANGE, "protocol": leave | {"authority_code": STOCKPORT[0]}}
    assert_problem(job_actors.post("commissioner", f"{API}/what-if", body), 422, "change")


SIMULATION: dict[str, Any] = {"policies": ["fcfs", "batch"], "days": 45, "seeds": 1}


def test_a_simulation_job_gives_what_the_comparison_gives_on_the_same_world(
    job_actors: Actors,
) -> None:
    furnish(job_actors)
    response = job_actors.post("commissioner", f"{API}/simulations", SIMULATION)
    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["location"] == f"{API}/jobs/{body['id']}"
    assert (body["kind"], body["status"]) == ("simulation", "queued")
    assert body["parameters"]["area"]["code"] == "Greater Manchester"
    with runner(job_actors.settings):
        done = until_status(job_actors, body["id"], "succeeded", "failed")
    assert done["status"] == "succeeded", done["error"]
    assert done["progress"] == 1.0
    result = done["result"]
    assert [row["policy"] for row in result["policies"]] == ["fcfs", "batch"]
    assert all(row["hindsight_bound"] is not None for row in result["policies"])
    assert without_seconds(result) == without_seconds(
        direct_simulation(job_actors.settings, done["parameters"])
    )


def without_seconds(result: dict[str, Any]) -> dict[str, Any]:
    """The figures, without how long each run took (the one thing that differs)."""
    rows = [{k: v for k, v in row.items() if k != "seconds_per_run"} for row in result["policies"]]
    return {**result, "policies": rows}


def direct_simulation(settings: Settings, parameters: dict[str, Any]) -> dict[str, Any]:
    """`simulation.compare` run directly on the world the job's parameters name, as the
    job's JSON keeps it."""

    weights = settings.match_weights()
    world = from_registry(
        settings,
        lambda session, cipher, index: world_of(session, cipher, index, parameters, weights),
    )
    policies = [policy_named(n, parameters["batch_hours"]) for n in parameters["policies"]]
    seeds = range(1, parameters["seeds"] + 1)
    rows = compare(world, policies, seeds, parameters["days"], hindsight=True)
    whole = {"days": parameters["days"], "seeds": parameters["seeds"], "policies": rows}
    result: dict[str, Any] = json.loads(json.dumps(whole))
    return result


@pytest.mark.parametrize(
    ("who", "body", "status", "field"),
    [
        ("officer", SIMULATION, 403, None),
        ("london", {**SIMULATION, "region": "Greater Manchester"}, 404, None),
        ("commissioner", {**SIMULATION, "policies": ["fcfs", "fcfs"]}, 422, "policies"),
        ("commissioner", {**SIMULATION, "policies": ["lottery"]}, 400, "policies"),
        ("commissioner", {**SIMULATION, "policies": []}, 400, "policies"),
        ("commissioner", {**SIMULATION, "days": 0}, 400, "days"),
    ],
)
def test_a_simulation_is_for_commissioners_of_their_area_and_bad_ones_are_named(
    job_actors: Actors, who: str, body: dict[str, Any], status: int, field: str | None
) -> None:
    problem = assert_problem(job_actors.post(who, f"{API}/simulations", body), status)
    if field is not None:
        assert field in problem["detail"] or field in str(problem.get("errors"))


def test_a_retried_what_if_is_one_job(job_actors: Actors) -> None:
    key = {"Idempotency-Key": "what-if-1"}
    first = job_actors.post("commissioner", f"{API}/what-if", WHAT_IF, headers=key)
    again = job_actors.post("commissioner", f"{API}/what-if", WHAT_IF, headers=key)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["location"] == first.headers["location"]


# -- jobs outlive the process running them --------------------------------------------


def test_a_job_cut_short_by_a_service_restart_runs_after_it(
    migrated_settings: Settings, tmp_path: Path
) -> None:
    settings = fast(migrated_settings, in_process=True)
    gate = tmp_path / "gate"
    gate.touch()
    with app_client(settings) as client:
        actors = populate(client, settings)
        job_id = create_gate_job(settings, gate)
        until_status(actors, job_id, "running")
    # Stopped mid-run, the service put the job back in the queue.
    with app_client(settings) as client:
        actors.client = client
        assert job(actors, job_id)["status"] in ("queued", "running")
        gate.unlink()
        done = until_status(actors, job_id, "succeeded", "failed")
    assert done["status"] == "succeeded" and done["result"] == {"through": True}
    assert done["attempts"] == 2


def test_a_job_whose_process_died_is_run_again(migrated_settings: Settings, tmp_path: Path) -> None:
    """A run whose heartbeat stopped (its process killed) is taken up by the next runner."""
    settings = fast(migrated_settings, in_process=True)
    job_id = create_gate_job(settings, tmp_path / "no-gate")
    mark_running_and_silent(settings, job_id)
    with app_client(settings) as client:
        actors = populate(client, settings)
        done = until_status(actors, job_id, "succeeded", "failed")
    assert done["status"] == "succeeded" and done["attempts"] == 2


def mark_running_and_silent(settings: Settings, job_id: uuid.UUID) -> None:
    """The row a process killed mid-run leaves: running, a heartbeat an hour old."""

    async def run() -> None:
        engine = create_engine(settings, connections=1)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    update(Job)
                    .where(Job.id == job_id)
                    .values(
                        status="running",
                        attempts=1,
                        heartbeat_at=Job.created_at,
                        started_at=Job.created_at,
                    )
                )
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_a_worker_started_after_the_job_was_queued_runs_it(
    job_actors: Actors, tmp_path: Path
) -> None:
    if job_actors.settings.is_sqlite:
        pytest.skip("workers are PostgreSQL's; SQLite runs jobs in the service")
    furnish(job_actors)
    created = job_actors.post("commissioner", f"{API}/what-if", WHAT_IF).json()
    assert job(job_actors, created["id"])["status"] == "queued"
    with worker(job_actors.settings):
        done = until_status(job_actors, created["id"], "succeeded", "failed")
    assert done["status"] == "succeeded", done["error"]


def test_a_job_of_a_killed_worker_is_retried_by_another(job_actors: Actors, tmp_path: Path) -> None:
    if job_actors.settings.is_sqlite:
        pytest.skip("workers are PostgreSQL's; SQLite runs jobs in the service")
    gate = tmp_path / "gate"
    gate.touch()
    job_id = create_gate_job(job_actors.settings, gate)
    with worker(job_actors.settings) as first:
        until_status(job_actors, job_id, "running")
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert job(job_actors, job_id)["status"] == "running"  # nobody knows it died
    gate.unlink()
    with worker(job_actors.settings):
        done = until_status(job_actors, job_id, "succeeded", "failed")
    assert done["status"] == "succeeded" and done["attempts"] == 2


def test_a_running_job_can_be_cancelled(job_actors: Actors, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    job_id = create_gate_job(job_actors.settings, gate)
    with runner(job_actors.settings):
        until_status(job_actors, job_id, "running")
        response = job_actors.post("admin", f"{API}/jobs/{job_id}/cancel")
        assert response.status_code == 200, response.text
        assert response.json()["cancel_requested"] is True
        done = until_status(job_actors, job_id, "cancelled", "succeeded", "failed")
    assert done["status"] == "cancelled" and done["result"] is None
    assert gate.exists()  # it was stopped, not let through


def test_a_queued_job_cancelled_never_runs(job_actors: Actors, tmp_path: Path) -> None:
    if job_actors.settings.is_sqlite:
        pytest.skip("on SQLite the service takes a job at once: no job stays queued")
    gate = tmp_path / "gate"
    gate.touch()
    job_id = create_gate_job(job_actors.settings, gate)
    response = job_actors.post("admin", f"{API}/jobs/{job_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    with worker(job_actors.settings):
        wait_for(lambda: queue_entry_done(job_actors.settings, job_id), "the queue entry taken")
    assert job(job_actors, job_id)["status"] == "cancelled"
    assert job(job_actors, job_id)["attempts"] == 0


def queue_entry_done(settings: Settings, job_id: uuid.UUID) -> bool:
    """Whether a worker has taken and finished the job's procrastinate queue entry."""

    def status(conn: Any) -> Any:
        return conn.execute(
            text("SELECT status FROM procrastinate_jobs WHERE args->>'job_id' = :id"),
            {"id": str(job_id)},
        ).scalar_one()

    return bool(with_connection(settings.database_url, status) == "succeeded")
