"""Contract fuzzing: schemathesis over the whole OpenAPI document, as admin, officer, provider.

Every operation the document lists gets generated requests, valid and invalid (positive
and negative modes), sent over real HTTP to the real app under uvicorn
(`tests.live_server`) on a seeded registry, with the role's key. Each response must
not be a 5xx, must have a status code and a media type the document lists for the
operation, and must match the schema documented for that status. Path parameters are
drawn from both generated values and the ids of seeded records, so requests reach real
rows and not only 404s.

Size: `PLACEMENT_FUZZ_EXAMPLES` is Hypothesis' `max_examples` per operation and role
(default 5, about 800 cases per backend, for CI). The README gives the full-size command.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
# The role fuzzed, and which of the seeded actors' keys it uses.
ROLES = {"admin": "admin", "officer": "officer", "provider": "provider_a"}
# A body can match "the documented schema" only if its media type is the documented one:
# schemathesis validates no body whose Content-Type the operation does not list.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class FuzzTarget:
    """The running service, the fuzzing roles' keys, and seeded ids by path parameter."""

    base_url: str
    keys: dict[str, str]
    known_ids: dict[str, list[str]]


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
        "key_id": spare,
    }


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    """One seeded database and server per backend, shared by the three roles' runs."""
    directory = tmp_path_factory.mktemp("fuzz")
    with fresh_database(str(request.param), directory, request) as url:
        settings_ = settings_for(url, directory)
        with app_client(settings_) as client:
            actors = populate(client, settings_)
            known_ids = seed(actors)
        with serving(create_app(settings_)) as base_url:
            keys = {role: actors.keys[who] for role, who in ROLES.items()}
            yield FuzzTarget(base_url=base_url, keys=keys, known_ids=known_ids)


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
        return create_app(settings_).openapi_schema.to_schema()


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
    case.call_and_validate(
        base_url=fuzz_target.base_url,
        headers={"Authorization": f"Bearer {fuzz_target.keys[role]}"},
        checks=CHECKS,
    )
