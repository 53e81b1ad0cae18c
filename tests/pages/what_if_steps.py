"""Steps both what-if forms' browser tests take: records made through the API, the short
span a test simulates, asking and waiting for the answer, and reading its table."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import scheme_body, unit_body
from tests.jobs_support import runner
from tests.pages.conftest import Site, Visit
from tests.placing import row_counts

JOB_WAIT_MS = 180_000
"""How long the browser waits for a queued what-if to end (a bound, not a measure)."""


def post_api(site: Site, who: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A record made through the live app's API with a key of `who` (set-up only)."""
    headers = site.actors.headers(who, {"Idempotency-Key": str(uuid.uuid4())})
    response = httpx.post(f"{site.base_url}/api/v1{path}", json=body, headers=headers, timeout=30)
    assert response.status_code < 300, response.text
    made: dict[str, Any] = response.json()
    return made


def add_waiting_households(site: Site, tag: str) -> None:
    """A unit of the area and three households referred, so a simulated year has both."""
    scheme = post_api(site, "provider_a", "/schemes", scheme_body(site.actors.provider_a))
    post_api(site, "provider_a", "/units", unit_body(scheme["id"], label=f"{tag} room"))
    for n in range(3):
        household = {"members": [{"age": 30 + n, "gender": "female"}]}
        body = {"reference": f"{tag.upper()}-{n}", "risk_level": "high", "household": household}
        post_api(site, "officer", "/referrals", body)


def ask_for_a_quarter(site: Site, page: Page, button: str, question: str) -> dict[str, Any]:
    """Ask over one simulated quarter, follow the job's page until its figures show under
    the question's heading, and return the job as the API gives it."""
    page.get_by_label("How long to simulate").select_option(value="91")
    page.get_by_label("How many years to compare").select_option(value="1")
    with runner(site.settings):  # a worker on PostgreSQL; SQLite's service runs it itself
        page.get_by_role("button", name=button).click()
        expect(page.locator("h1")).to_have_text(question)
        summary = page.get_by_test_id("what-if-summary")
        expect(summary).to_contain_text("households on average", timeout=JOB_WAIT_MS)
    job: dict[str, Any] = site.api(f"/api/v1/jobs/{page.url.rsplit('/', 1)[1]}").json()
    assert (job["kind"], job["status"]) == ("what_if", "succeeded")
    return job


def assert_placed_row_shows(page: Page, job: dict[str, Any]) -> None:
    """The table's households-placed row is the job's figures, rounded as the page does."""
    placed = job["result"]["placed"]
    row = page.get_by_role("row").filter(has_text="Households placed")
    assert row.locator("td").all_inner_texts()[1:4] == [
        f"{placed['baseline']:,.1f}",
        f"{placed['changed']:,.1f}",
        f"{placed['difference']:+,.1f}",
    ]


def jobs_of(site: Site) -> int:
    """Jobs in the database (read off Playwright's thread, whose loop refuses ours)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(row_counts, site.settings, "jobs").result()["jobs"]


def refused_pages(visit: Visit) -> None:
    """Forget the browser's console notes of the refusals the test asked for."""
    visit.problems[:] = [p for p in visit.problems if "status of 4" not in p]
