"""`placement serve` as deployed: the real uvicorn in front of the app.

The ASGI server adds headers of its own that no in-process test client shows; this
checks what a client of the served process receives.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from placement.config import Settings
from tests.test_concurrency import start_server, stop_server


def test_the_served_api_names_no_server_and_keeps_its_headers(
    migrated_settings: Settings, tmp_path: Path
) -> None:
    server = start_server(migrated_settings, tmp_path)
    try:
        health = httpx.get(f"{server.base}/health", timeout=10)
        refused = httpx.get(f"{server.base}/api/v1/units", timeout=10)
    finally:
        stop_server(server)
    for response in (health, refused):
        assert "server" not in response.headers, response.headers
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert refused.status_code == 401
    assert refused.headers["cache-control"] == "no-store"
