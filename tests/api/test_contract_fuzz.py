"""Contract fuzzing: schemathesis over the whole OpenAPI document, as admin, officer, provider.

Every operation the document lists gets generated requests, valid and invalid (positive
and negative modes), sent over real HTTP to the real app under uvicorn
(`tests.live_server`) on a seeded registry, with the role's key. Each response must
not be a 5xx, must have a status code and a media type the document lists for the
operation, and must match the schema documented for that status. Path parameters are
drawn from both generated values and the ids of seeded records, so requests reach real
rows and not only 404s.

Size: `PLACEMENT_FUZZ_EXAMPLES` is Hypothesis' `max_examples` per operation and role
(default 5, about 900 cases per backend, for CI). The README gives the full-size command.

Figures: every case sent is counted by backend and role, with its response's fate (a
5xx, a status code the document does not list, a body or media type that does not match
it). As each backend's run ends they are printed and written to
`fuzz-figures-<backend>.json` in pytest's base temporary directory (or in
`PLACEMENT_FUZZ_FIGURES_DIR`), so a full-size run leaves its figures behind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from placement.config import DatabaseTimeouts
from tests.conftest import (
    API,
    BACKENDS,
    CAMDEN,
    STOCKPORT,
    WESTMINSTER,
    Actors,
    app_client,
    fresh_database,
    populate,
    protocol_body,
    rehousing_body,
    settings_for,
)
from tests.live_server import serving
from tests.placing import add_scheme, add_unit, create_referral, make_offer, place

FUZZ_EXAMPLES = int(os.environ.get("PLACEMENT_FUZZ_EXAMPLES", "5"))
# This checks the contract, not the database fault bounds (tests/test_database_faults.py
# does): on a machine loaded far past its cores, a full-size run saw a 4 s statement
# timeout answer 503 and an allocation outlast schemathesis' 10 s client timeout.
ROOMY = DatabaseTimeouts(connect=30.0, statement=60.0, pool=30.0)
CALL_SECONDS = 120.0
# The role fuzzed, and which of the seeded actors' keys it uses.
ROLES = {"admin": "admin", "officer": "officer", "provider": "provider_a"}
# Each fate a response can have, and the checks that find it. A body can match "the
# documented schema" only if its media type is the documented one: schemathesis validates
# no body whose Content-Type the operation does not list, so both count as a mismatch.
CheckFunction = Callable[..., bool | None]
FATES: dict[str, list[CheckFunction]] = {
    "server_errors": [not_a_server_error],
    "undocumented_status": [status_code_conformance],
    "schema_mismatch": [content_type_conformance, response_schema_conformance],
}


@dataclass
class Figures:
    """What one backend's run sent and what came back, by role."""

    cases: Counter[str] = field(default_factory=Counter)
    failures: dict[str, Counter[str]] = field(
        default_factory=lambda: {fate: Counter() for fate in FATES}
    )
    statuses: Counter[int] = field(default_factory=Counter)

    def summary(self, backend: str) -> dict[str, Any]:
        return {
            "backend": backend,
            "examples_per_operation": FUZZ_EXAMPLES,
            "cases": {**dict(sorted(self.cases.items())), "total": self.cases.total()},
            **{fate: counts.total() for fate, counts in self.failures.items()},
            "statuses": {str(code): n for code, n in sorted(self.statuses.items())},
        }


@dataclass(frozen=True)
class FuzzTarget:
    """The running service, the fuzzing roles' keys, and seeded ids by path parameter."""

    base_url: str
    keys: dict[str, str]
    known_ids: dict[str, list[str]]
    figures: Figures


def seed(actors: Actors) -> dict[str, list[str]]:
    """A small registry with one record of each kind, live bookings included.

    The fuzzing actors' own scopes (Manchester, provider A, their keys) are left out of
    the ids offered to path parameters: a fuzzed DELETE retiring them would leave the
    rest of the run nothing to reach.
    """
    scheme = add_scheme(actors)
    first, second = (add_unit(actors, scheme["id"], label=f"Room {n}") for n in (1, 2))
    placed = create_referral(actors)
    placement = place(actors, placed["id"], first["id"])
    waiting = create_referral(actors)
    held = make_offer(actors, waiting["id"], second["id"])
    protocol = actors.post("admin", f"{API}/protocols", protocol_body()).json()
    option = actors.post("provider_a", f"{API}/rehousing-options", rehousing_body()).json()
    link = {"perpetrator_ref": "P-1", "partner_authority_code": STOCKPORT[0]}
    proposed = actors.post(
        "officer", f"{API}/perpetrator-links", {**link, "partner_perpetrator_ref": "S-1"}
    )
    recorded = actors.post(
        "admin",
        f"{API}/perpetrator-links",
        {**link, "authority_code": WESTMINSTER[0], "partner_perpetrator_ref": "S-2"},
    )
    fuzzing = [actors.keys[who] for who in ROLES.values()]
    keys = actors.get("admin", f"{API}/keys", params={"limit": 100}).json()["items"]
    spare = [k["id"] for k in keys if not any(t.startswith(k["key_prefix"]) for t in fuzzing)]
    return {
        "code": [STOCKPORT[0], WESTMINSTER[0], CAMDEN[0]],
        "provider_id": [actors.provider_b],
        "scheme_id": [scheme["id"]],
        "unit_id": [first["id"], second["id"]],
        "referral_id": [placed["id"], waiting["id"]],
        "offer_id": [held["id"]],
        "placement_id": [placement["id"]],
        "protocol_id": [protocol["id"]],
        "option_id": [option["id"]],
        "link_id": [proposed.json()["id"], recorded.json()["id"]],
        "key_id": spare,
    }


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    """One seeded database and server per backend, shared by the three roles' runs; its
    figures are reported as it ends."""
    backend = str(request.param)
    directory = tmp_path_factory.mktemp("fuzz")
    figures = Figures()
    with fresh_database(backend, directory, request) as url:
        settings_ = dataclasses.replace(settings_for(url, directory), database_timeouts=ROOMY)
        with app_client(settings_) as client:
            actors = populate(client, settings_)
            known_ids = seed(actors)
        with serving(create_app(settings_)) as base_url:
            keys = {role: actors.keys[who] for role, who in ROLES.items()}
            yield FuzzTarget(base_url, keys, known_ids, figures)
    report(request.config, tmp_path_factory.getbasetemp(), figures.summary(backend))


def report(config: pytest.Config, basetemp: Path, summary: dict[str, Any]) -> None:
    """Print a backend's figures past pytest's capture, and keep them in a file."""
    folder = Path(os.environ.get("PLACEMENT_FUZZ_FIGURES_DIR", basetemp))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"fuzz-figures-{summary['backend']}.json"
    path.write_text(json.dumps(summary, indent=2) + "\n")
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if terminal is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # this runs as a test tears down
            terminal.write_line(f"\nschemathesis figures ({path}): {json.dumps(summary)}")


@pytest.fixture(params=list(ROLES))
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def served_document() -> dict[str, Any]:
    """The OpenAPI document the app serves at /schema/openapi.json, made without a server.

    Loaded at import so that pytest collects one test per operation and role. (The lazy
    `schemathesis.pytest.from_fixture` loader, which could load it from the running
    server, fails on pytest 9.2: it sets `Function._nodeid`, which pytest renamed.)
    """
    with tempfile.TemporaryDirectory() as directory:
        settings_ = settings_for(f"sqlite+aiosqlite:///{directory}/none.db", Path(directory))
        document = create_app(settings_).openapi_schema.to_schema()
    # As JSON, as it is served: an example in the document may be a Struct (a job's
    # links), which schemathesis' validator cannot read as the object it stands for.
    served: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(document))
    return served


# The documented examples are checked by tests/api/test_wire_contract.py; schemathesis
# cannot run its examples phase beside the `given` that draws seeded ids, so it fuzzes.
schema = schemathesis.openapi.from_dict(
    served_document(),
    config=SchemathesisConfig.from_dict({"phases": {"examples": {"enabled": False}}}),
)


def with_known_ids(case: Case, data: st.DataObject, known_ids: dict[str, list[str]]) -> None:
    """Each path parameter becomes the generated value or the id of a seeded record."""
    for name, value in (case.path_parameters or {}).items():
        case.path_parameters[name] = data.draw(
            st.sampled_from([value, *known_ids.get(name, [])]), label=name
        )


@schema.parametrize()
@schema.given(data=st.data())
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract(
    case: Case, data: st.DataObject, fuzz_target: FuzzTarget, role: str
) -> None:
    with_known_ids(case, data, fuzz_target.known_ids)
    headers = {"Authorization": f"Bearer {fuzz_target.keys[role]}"}
    response = case.call(base_url=fuzz_target.base_url, headers=headers, timeout=CALL_SECONDS)
    figures = fuzz_target.figures
    figures.cases[role] += 1
    figures.statuses[response.status_code] += 1
    found: list[BaseException] = []
    for fate, checks in FATES.items():
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (AssertionError, BaseExceptionGroup) as failure:  # a Failure, a FailureGroup
            figures.failures[fate][role] += 1
            found.append(failure)
    if found:
        raise found[0]
