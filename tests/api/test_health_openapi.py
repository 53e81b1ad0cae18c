"""GET /health (no auth) and the generated OpenAPI document and docs pages."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from litestar.testing import TestClient

from placement.config import Settings
from tests.conftest import app_client

REGISTRY_PATHS = {
    "/api/v1/authorities": {"get", "post"},
    "/api/v1/authorities/{code}": {"get", "patch", "delete"},
    "/api/v1/providers": {"get", "post"},
    "/api/v1/providers/{provider_id}": {"get", "patch", "delete"},
    "/api/v1/schemes": {"get", "post"},
    "/api/v1/schemes/{scheme_id}": {"get", "patch", "delete"},
    "/api/v1/schemes/{scheme_id}/location": {"get"},
    "/api/v1/units": {"get", "post"},
    "/api/v1/units/{unit_id}": {"get", "patch", "delete"},
    "/api/v1/protocols": {"get", "post"},
    "/api/v1/protocols/{protocol_id}": {"get", "patch", "delete"},
    "/api/v1/rehousing-options": {"get", "post"},
    "/api/v1/rehousing-options/{option_id}": {"get", "patch", "delete"},
    "/api/v1/rehousing-options/{option_id}/location": {"get"},
    "/api/v1/keys": {"get", "post"},
    "/api/v1/keys/{key_id}": {"delete"},
    "/api/v1/audit": {"get"},
    "/health": {"get"},
}


def test_health_needs_no_key_and_reports_the_database(client: TestClient[Any]) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "reachable"}


def test_health_says_when_the_database_is_unreachable(migrated_settings: Settings) -> None:
    nowhere = dataclasses.replace(
        migrated_settings, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/nothing"
    )
    with app_client(nowhere) as client:
        response = client.get("/health")
    assert response.status_code == 503  # load balancers send traffic elsewhere
    assert response.json() == {"status": "degraded", "database": "unreachable"}
    assert int(response.headers["retry-after"]) > 0


@pytest.fixture
def openapi(client: TestClient[Any]) -> dict[str, Any]:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_openapi_documents_every_registry_path(openapi: dict[str, Any]) -> None:
    paths = openapi["paths"]
    for path, methods in REGISTRY_PATHS.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    assert not {"patch", "put", "delete"} & set(paths["/api/v1/audit"])
    assert openapi["info"]["title"]
    assert openapi["openapi"].startswith("3.")


def test_openapi_documents_the_bearer_security_scheme(openapi: dict[str, Any]) -> None:
    schemes = openapi["components"]["securitySchemes"]
    assert schemes["BearerKey"]["type"] == "http"
    assert schemes["BearerKey"]["scheme"] == "bearer"
    for path, methods in REGISTRY_PATHS.items():
        for method in methods:
            security = openapi["paths"][path][method].get("security")
            if path == "/health":
                assert not security
            else:
                assert security == [{"BearerKey": []}], (path, method)


def test_openapi_documents_fields_and_enums(openapi: dict[str, Any]) -> None:
    text = str(openapi)
    for name in ("SchemeCreate", "UnitUpdate", "ProtocolCreate", "RehousingCreate"):
        assert name in text
    for value in ("women_only", "out_of_service", "second_stage_accommodation", "reciprocal"):
        assert value in text
    units = openapi["paths"]["/api/v1/units"]["get"]["parameters"]
    assert {"limit", "offset", "status", "min_bed_spaces", "include_retired"} <= {
        p["name"] for p in units
    }


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger"])
def test_docs_pages_answer(client: TestClient[Any], path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()
