"""The housing officer's pages in a real browser against the live app: register a
household through the form, see its matches and why a unit is ruled out, make an offer,
and, once the provider accepts it in the inbox it reached without a reload, see the
address once; bad input, another authority's officer and a CSRF-less post are all
refused with nothing written or shown.
Every page passes axe (0 critical or serious) and fits 320 px; screenshots in
results/pages/."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from placement.enums import Role
from tests.conftest import STOCKPORT, scheme_body, unit_body
from tests.jobs_support import runner
from tests.pages.conftest import Site, Visit
from tests.pages.harness import check_page, needs_chromium, sign_in

pytestmark = needs_chromium
API = "/api/v1"
GROUP_RUN = "Every open referral in my authority's group, as a joint panel"
REGION_RUN = "Every open referral in my authority's region, as a joint panel"
JOB_WAIT_MS = 120_000
"""How long the browser waits for a queued run to end (a bound, not a measure)."""


def api(site: Site, who: str, method: str, path: str, body: Any = None) -> Any:
    """A call to the live app's API with a key of `who` (set-up and checks only)."""
    headers = site.actors.headers(who, {"Idempotency-Key": str(uuid.uuid4())})
    response = httpx.request(
        method, site.base_url + API + path, json=body, headers=headers, timeout=30
    )
    assert response.status_code < 300, response.text
    return response.json()


@pytest.fixture(scope="module")
def unit(site: Site) -> dict[str, Any]:
    """An available two-bedroom room at a Manchester refuge (M14), of provider A."""
    scheme = api(
        site,
        "provider_a",
        "POST",
        "/schemes",
        scheme_body(site.actors.provider_a, name="Officer Test House"),
    )
    return dict(api(site, "provider_a", "POST", "/units", unit_body(scheme["id"], label="Room 7")))


def refused_as_expected(visit: Visit, status: int) -> None:
    """Forget the browser's console note of a refusal the test asked for (Chromium logs
    every 4xx page load as an error; the harness fails a test on any other)."""
    note = f"status of {status} "
    visit.problems[:] = [p for p in visit.problems if note not in p]


def referrals_of(site: Site, reference: str) -> list[dict[str, Any]]:
    found = api(site, "officer", "GET", f"/referrals?reference={reference}")
    return list(found["items"])


def register(page: Page, reference: str) -> None:
    """Fill in the new-referral form as a person would: a mother and her son of 7."""
    page.goto("/officer")
    page.get_by_role("button", name="Register a household").click()
    page.get_by_label("Case reference").fill(reference)
    page.get_by_label("Risk level").select_option(label="High")
    person1 = page.get_by_role("group", name="Person 1")
    person1.get_by_label("Age in years").fill("34")
    person1.get_by_label("Gender").select_option(label="Female")
    person2 = page.get_by_role("group", name="Person 2")
    person2.get_by_label("Age in years").fill("7")
    person2.get_by_label("Gender").select_option(label="Male")
    person2.get_by_label("School's postcode district (children)").fill("M14")
    page.get_by_label("Mental health").check()
    perpetrator = page.get_by_role("group", name="Place the perpetrator is known to be 1")
    perpetrator.get_by_label("Postcode district").fill("WA1")
    perpetrator.get_by_label("Keep the household at least this far away (km)").fill("5")
    page.get_by_role("button", name="Register the household").click()
    page.wait_for_load_state()


def test_officer_registers_matches_offers_and_sees_the_address_once(
    site: Site, visit: Visit, other_visit: Visit, unit: dict[str, Any]
) -> None:
    page = visit.page
    inbox = other_visit.page  # the refuge's worker, on the offers inbox all along
    sign_in(inbox, site.accounts["provider"])
    inbox.goto("/provider/offers")
    inbox.evaluate("() => { window.notReloaded = true }")
    sign_in(page, site.accounts["officer"])
    assert page.url.endswith("/officer")
    check_page(page, "officer-referrals")
    page.get_by_role("button", name="Register a household").click()
    check_page(page, "officer-new-referral")

    reference = f"MAN-{uuid.uuid4().hex[:6]}"
    register(page, reference)
    expect(page.get_by_role("heading", name=reference)).to_be_visible()
    expect(page.get_by_text("The household is registered.")).to_be_visible()
    check_page(page, "officer-referral")
    [stored] = referrals_of(site, reference)
    reads = api(site, "admin", "GET", f"/audit?record_id={stored['id']}&action=read")
    assert reads["total"] >= 1, "the page's read of the household is on the audit trail"
    full = api(site, "officer", "GET", f"/referrals/{stored['id']}")
    assert [m["age"] for m in full["household"]["members"]] == [34, 7]
    assert full["household"]["members"][1]["school"]["district"] == "M14"
    assert full["household"]["support_needs"] == ["mental_health"]

    page.get_by_role("button", name="See matches").click()
    match = page.get_by_test_id("match").filter(has_text="Officer Test House")
    expect(match).to_have_count(1)
    expect(match.get_by_role("meter").first).to_be_visible()
    assert "Room 7" in match.inner_text()
    check_page(page, "officer-matches")

    page.get_by_label("Unit").select_option(unit["id"])
    page.get_by_role("button", name="Check this unit").click()
    expect(page.get_by_test_id("rules")).to_contain_text("meets every rule")
    check_page(page, "officer-why-not")
    page.go_back()

    page.get_by_test_id("match").filter(has_text="Officer Test House").get_by_role(
        "button", name="Offer Room 7"
    ).click()
    expect(page.get_by_test_id("offers")).to_contain_text("Live")
    [offer] = api(site, "officer", "GET", f"/offers?referral_id={stored['id']}")["items"]
    card = inbox.locator(f"[data-offer-id='{offer['id']}']")
    expect(card).to_be_visible()  # the inbox's poll brings it: no reload
    assert inbox.evaluate("() => window.notReloaded === true"), "the inbox was reloaded"
    assert "Manchester" in card.inner_text() and reference not in card.inner_text()
    card.get_by_role("button", name="Accept").click()
    expect(inbox.get_by_text("You accepted the offer")).to_be_visible()
    assert api(site, "officer", "GET", f"/offers/{offer['id']}")["status"] == "accepted"

    page.reload()
    page.get_by_role("link", name="See the address (shown once)").click()
    expect(page.get_by_text("The address is shown once only")).to_be_visible()
    check_page(page, "officer-reveal-warning")
    page.get_by_role("button", name="Show the address once").click()
    expect(page.get_by_test_id("address")).to_contain_text("12 Example Road")
    check_page(page, "officer-reveal")
    placement = api(site, "officer", "GET", "/placements?current=true")["items"]
    [mine] = [p for p in placement if p["referral_id"] == stored["id"]]
    events = api(site, "admin", "GET", f"/audit?record_id={mine['id']}&action=reveal_address")
    assert events["total"] == 1

    page.go_back()
    page.reload()
    page.get_by_role("button", name="Show the address once").click()
    assert "already been shown" in page.get_by_test_id("error-detail").inner_text()
    assert "12 Example Road" not in page.content()
    refused_as_expected(visit, 409)
    events = api(site, "admin", "GET", f"/audit?record_id={mine['id']}&action=reveal_address")
    assert events["total"] == 1


def test_bad_input_shows_the_error_summary_and_writes_nothing(site: Site, visit: Visit) -> None:
    page = visit.page
    sign_in(page, site.accounts["officer"], then="/officer/referrals/new")
    reference = f"BAD-{uuid.uuid4().hex[:6]}"
    page.get_by_label("Case reference").fill(reference)
    page.get_by_label("Risk level").select_option(label="Medium")
    person1 = page.get_by_role("group", name="Person 1")
    person1.get_by_label("Age in years").fill("34")
    person1.get_by_label("Gender").select_option(label="Female")
    perpetrator = page.get_by_role("group", name="Place the perpetrator is known to be 1")
    perpetrator.get_by_label("Postcode district").fill("ZZ99")
    page.get_by_role("button", name="Register the household").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a postcode district that exists")
    assert summary.get_by_role("link").get_attribute("href") == "#perpetrator-1-district"
    assert page.get_by_label("Case reference").input_value() == reference
    check_page(page, "officer-new-referral-error")
    assert referrals_of(site, reference) == []

    perpetrator.get_by_label("Postcode district").fill("WA1")
    person1.get_by_label("Age in years").fill("200")
    page.get_by_role("button", name="Register the household").click()
    expect(summary).to_contain_text("Enter an age in whole years")
    assert summary.get_by_role("link").get_attribute("href") == "#member-1-age"
    assert referrals_of(site, reference) == []
    refused_as_expected(visit, 422)


def test_another_authoritys_officer_cannot_see_the_referral(site: Site, visit: Visit) -> None:
    reference = f"MAN-{uuid.uuid4().hex[:6]}"
    made = api(
        site,
        "officer",
        "POST",
        "/referrals",
        {
            "reference": reference,
            "risk_level": "high",
            "household": {"members": [{"age": 29, "gender": "female"}]},
        },
    )
    # Made on a thread of its own: set-up runs asyncio.run, refused beside Playwright's loop.
    with ThreadPoolExecutor(1) as thread:
        stockport = thread.submit(
            site.new_account, Role.HOUSING_OFFICER, authority_code=STOCKPORT[0]
        ).result()
    page = visit.page
    sign_in(page, stockport)
    assert reference not in page.content()
    for path in ("", "/matches", f"/why-not?unit_id={uuid.uuid4()}"):
        response = page.goto(f"/officer/referrals/{made['id']}{path}")
        assert response is not None and response.status == 404, path
        assert reference not in page.content()
    check_page(page, "officer-not-found")
    refused_as_expected(visit, 404)


def test_a_post_without_its_csrf_token_is_refused(site: Site, visit: Visit) -> None:
    sign_in(visit.page, site.accounts["officer"])
    reference = f"CSRF-{uuid.uuid4().hex[:6]}"
    response = visit.page.request.post(
        "/officer/referrals",
        form={
            "reference": reference,
            "risk_level": "high",
            "member-1-age": "30",
            "member-1-gender": "female",
        },
    )
    assert response.status == 403
    assert referrals_of(site, reference) == []


def test_the_allocation_panel_proposes_and_an_offer_from_it_is_withdrawn(
    site: Site, visit: Visit, unit: dict[str, Any]
) -> None:
    reference = f"PANEL-{uuid.uuid4().hex[:6]}"
    made = api(
        site,
        "officer",
        "POST",
        "/referrals",
        {
            "reference": reference,
            "risk_level": "medium",
            "household": {"members": [{"age": 41, "gender": "female"}]},
        },
    )
    scheme = unit["scheme_id"]
    for n in (1, 2):  # room enough for this case and the other tests' open one
        api(site, "provider_a", "POST", "/units", unit_body(scheme, label=f"Flat {n}"))
    page = visit.page
    sign_in(page, site.accounts["officer"], then="/officer/allocation")
    check_page(page, "officer-allocation")
    page.get_by_role("button", name="Run the allocation").click()
    expect(page.get_by_test_id("allocation-summary")).to_contain_text("cases placed")
    check_page(page, "officer-allocation-proposals")
    proposal = page.get_by_test_id("proposal").filter(has_text=reference)
    proposal.get_by_role("button", name=f"for {reference}").click()
    expect(page.get_by_role("heading", name=reference)).to_be_visible()
    expect(page.get_by_test_id("offers")).to_contain_text("Live")
    page.get_by_role("button", name="Withdraw offer").click()
    expect(page.get_by_test_id("offers")).to_contain_text("Withdrawn")
    [offer] = api(site, "officer", "GET", f"/offers?referral_id={made['id']}")["items"]
    assert offer["status"] == "withdrawn"


def test_a_group_run_is_queued_and_its_page_shows_the_proposals_once_it_ends(
    site: Site, visit: Visit, unit: dict[str, Any]
) -> None:
    """A joint panel over the group is a job: the officer is sent to the run's page,
    which follows the run (htmx polling) and shows the proposals when it has ended."""
    reference = f"GROUP-{uuid.uuid4().hex[:6]}"
    household = {"members": [{"age": 36, "gender": "female"}]}
    body = {"reference": reference, "risk_level": "medium", "household": household}
    api(site, "officer", "POST", "/referrals", body)
    page = visit.page
    sign_in(page, site.accounts["officer"], then="/officer/allocation")
    page.get_by_label(GROUP_RUN).check()
    with runner(site.settings):  # a worker on PostgreSQL; SQLite's service runs it itself
        page.get_by_role("button", name="Run the allocation").click()
        expect(page).to_have_url(re.compile(r"/officer/allocation/runs/[0-9a-f-]{36}$"))
        job_id = page.url.rsplit("/", 1)[1]
        summary = page.get_by_test_id("allocation-summary")
        expect(summary).to_contain_text("cases placed", timeout=JOB_WAIT_MS)
    check_page(page, "officer-allocation-run")
    expect(page.get_by_test_id("proposal").filter(has_text=reference)).to_have_count(1)
    job = site.api(f"{API}/jobs/{job_id}").json()
    assert (job["kind"], job["status"]) == ("allocation", "succeeded")
    assert job["parameters"]["scope"] == "group"
    assert job["result"]["placed"] == int(summary.inner_text().split(" of ")[0])


def test_a_queued_region_run_is_cancelled_from_its_page(site: Site, visit: Visit) -> None:
    if site.settings.is_sqlite:
        pytest.skip("on SQLite the service takes a run at once: no run stays queued")
    page = visit.page
    sign_in(page, site.accounts["officer"], then="/officer/allocation")
    page.get_by_label(REGION_RUN).check()
    page.get_by_role("button", name="Run the allocation").click()  # no worker: it waits
    expect(page.get_by_test_id("run-status")).to_have_text("Waiting to start")
    check_page(page, "officer-allocation-run-queued")
    job_id = page.url.rsplit("/", 1)[1]
    page.get_by_role("button", name="Cancel this run").click()
    expect(page.get_by_test_id("run-status")).to_contain_text("Cancelled")
    assert site.api(f"{API}/jobs/{job_id}").json()["status"] == "cancelled"


def test_an_offer_posted_without_its_unit_is_refused_in_words(
    site: Site, visit: Visit, unit: dict[str, Any]
) -> None:
    """A tampered or broken offer button (no unit, or not a unit's id) is the form's rule
    as a 422 page, not a server error, and no offer is made."""
    page = visit.page
    label = f"Room {uuid.uuid4().hex[:4]}"  # its own unit: the module's others get booked
    api(site, "provider_a", "POST", "/units", unit_body(unit["scheme_id"], label=label))
    sign_in(page, site.accounts["officer"])
    reference = f"NOUNIT-{uuid.uuid4().hex[:6]}"
    register(page, reference)
    [stored] = referrals_of(site, reference)
    page.get_by_role("button", name="See matches").click()
    button = page.get_by_role("button", name=f"Offer {label} at Officer Test House")
    offer = page.get_by_test_id("match").filter(has=button)
    for tampered in ("", "room-7"):
        offer.locator("input[name=unit_id]").evaluate("(input, v) => input.value = v", tampered)
        with page.expect_response(f"**/officer/referrals/{stored['id']}/offers") as answer:
            button.click()
        assert answer.value.status == 422
        expect(page.get_by_test_id("error-detail")).to_contain_text(
            "Choose a unit from the matches to offer it"
        )
        page.go_back()
    assert api(site, "officer", "GET", f"/offers?referral_id={stored['id']}")["items"] == []
    refused_as_expected(visit, 422)
