"""The refuge provider's pages in a real browser against the live app: an officer's
offer (made through the API) arrives in the inbox without a reload and is accepted;
declining takes a reason from the list; a unit goes out of service with a reason and a
date and back with one click; a change someone made meanwhile is explained in words;
new schemes and units through the forms; bad input shows the error summary and writes
nothing; another provider's schemes stay out of sight; a post without its CSRF token is
refused; a move-out records the outcome. Every page passes axe and fits 320 px.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, cast

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from placement.geography import districts
from tests.conftest import API, Actors, audit_events
from tests.pages.conftest import TIMEOUT_MS, Site, Visit
from tests.pages.harness import check_page, needs_chromium, sign_in
from tests.placing import add_scheme, add_unit, create_referral, get_unit, make_offer, place

pytestmark = needs_chromium


@pytest.fixture
def api(site: Site) -> Iterator[Actors]:
    """The site's API keys over HTTP to the live app (as an officer's system would)."""
    with httpx.Client(base_url=site.base_url) as client:
        yield replace(site.actors, client=cast(Any, client))


@pytest.fixture
def provider(site: Site, visit: Visit) -> Page:
    """The provider (Northern Refuges) signed in, on the vacancy board."""
    sign_in(visit.page, site.accounts["provider"])
    return visit.page


def fresh_unit(
    api: Actors, who: str = "provider_a", **unit: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new scheme of its own (so tests do not share units) and a unit in it."""
    scheme = add_scheme(api, who, name=f"House {uuid.uuid4().hex[:6]}")
    return scheme, add_unit(api, scheme["id"], who, label=f"Room {uuid.uuid4().hex[:4]}", **unit)


def offer_of(api: Actors, offer_id: str) -> dict[str, Any]:
    response = api.get("officer", f"{API}/offers/{offer_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def scheme_total(api: Actors) -> int:
    response = api.get("provider_a", f"{API}/schemes", params={"limit": 1})
    return int(response.json()["total"])


def unit_total(api: Actors) -> int:
    response = api.get("provider_a", f"{API}/units", params={"limit": 1})
    return int(response.json()["total"])


def test_an_offer_arrives_without_a_reload_and_is_accepted(api: Actors, provider: Page) -> None:
    _, unit = fresh_unit(api)
    referral = create_referral(api)
    provider.goto("/provider/offers")
    provider.evaluate("() => { window.notReloaded = true }")
    made = make_offer(api, referral["id"], unit["id"])  # by the officer, through the API

    card = provider.locator(f"[data-offer-id='{made['id']}']")
    expect(card).to_be_visible(timeout=TIMEOUT_MS)
    assert provider.evaluate("() => window.notReloaded === true"), "the page was reloaded"
    text = card.inner_text()
    assert "Manchester" in text and "Woman, 31" in text and "Boy, 9" in text
    assert "hour" in card.get_by_test_id("time-left").inner_text()
    assert referral["reference"] not in text and "Example Road" not in text
    check_page(provider, "provider-offers-inbox")

    reads = audit_events(api, record_id=referral["id"], action="read_needs")
    assert reads and reads[0]["detail"]["offer_id"] == made["id"]
    assert reads[0]["detail"].get("user_id"), "the page's read names the account"
    # A poll that would show the same is 204 and reads (so audits) no household.
    seen = provider.get_by_test_id("inbox").get_attribute("data-seen")
    unchanged = provider.request.get(f"/provider/offers/live?seen={seen}")
    if unchanged.status == 200:  # the time left turned a minute between the two reads
        found = re.search(r'data-seen="(\w+)"', unchanged.text())
        assert found, unchanged.text()
        reads = audit_events(api, record_id=referral["id"], action="read_needs")
        unchanged = provider.request.get(f"/provider/offers/live?seen={found[1]}")
    again = audit_events(api, record_id=referral["id"], action="read_needs")
    assert unchanged.status == 204 and len(again) == len(reads)

    card.get_by_role("button", name="Accept").click()
    expect(provider.get_by_text("You accepted the offer")).to_be_visible()
    assert offer_of(api, made["id"])["status"] == "accepted"
    assert get_unit(api, unit["id"])["status"] == "occupied"
    expect(provider.locator(f"[data-offer-id='{made['id']}']")).to_have_count(0)
    check_page(provider, "provider-offers-accepted")


def test_declining_takes_a_reason_from_the_list(api: Actors, provider: Page) -> None:
    _, unit = fresh_unit(api)
    made = make_offer(api, create_referral(api)["id"], unit["id"])
    provider.goto("/provider/offers")
    card = provider.locator(f"[data-offer-id='{made['id']}']")
    card.get_by_role("link", name="Decline").click()
    check_page(provider, "provider-decline")

    provider.get_by_role("button", name="Decline offer").click()
    summary = provider.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select why you are declining the offer")
    assert offer_of(api, made["id"])["status"] == "live", "a refused form wrote nothing"
    check_page(provider, "provider-decline-error")

    provider.get_by_label("Why you are declining").select_option(label="Needs not met")
    provider.get_by_label("Note for the officer (optional)").fill("No ground-floor room free")
    provider.get_by_role("button", name="Decline offer").click()
    expect(provider.get_by_text("You declined the offer")).to_be_visible()
    decided = offer_of(api, made["id"])
    assert decided["status"] == "declined" and decided["decline_reason"] == "needs_not_met"
    assert get_unit(api, unit["id"])["status"] == "available"


def test_a_unit_goes_out_of_service_with_a_reason_and_date_and_back(
    api: Actors, provider: Page
) -> None:
    _, unit = fresh_unit(api)
    back = date.today() + timedelta(days=30)
    provider.goto("/provider")
    row = provider.locator(f"[data-unit-id='{unit['id']}']")
    row.get_by_role("link", name="Take out of service").click()
    check_page(provider, "provider-unit")

    provider.get_by_role("radio", name="Out of service").check()
    provider.get_by_role("button", name="Save status").click()
    expect(provider.locator(".govuk-error-summary")).to_contain_text("reason")
    assert get_unit(api, unit["id"])["status"] == "available", "a refused form wrote nothing"

    provider.get_by_role("radio", name="Out of service").check()
    provider.get_by_label("Reason it is out of service").select_option(label="Repairs")
    provider.get_by_label("Day").fill(str(back.day))
    provider.get_by_label("Month").fill(str(back.month))
    provider.get_by_label("Year").fill(str(back.year))
    provider.get_by_role("button", name="Save status").click()
    expect(provider.get_by_text("The unit's status has been changed")).to_be_visible()
    row = provider.locator(f"[data-unit-id='{unit['id']}']")
    expect(row).to_contain_text("Out of service")
    expect(row).to_contain_text(f"expected back {back.day} {back:%B %Y}")
    stored = get_unit(api, unit["id"])
    assert stored["status"] == "out_of_service"
    assert stored["out_of_service_reason"] == "repairs"
    assert stored["expected_back_on"] == back.isoformat()
    check_page(provider, "provider-board")

    row.get_by_role("button", name="Mark available").click()  # one click back
    expect(provider.locator(f"[data-unit-id='{unit['id']}']")).to_contain_text("Available")
    assert get_unit(api, unit["id"])["status"] == "available"


def test_a_change_made_meanwhile_is_explained_in_words(api: Actors, provider: Page) -> None:
    _, unit = fresh_unit(api)
    provider.goto(f"/provider/units/{unit['id']}")
    changed = api.patch(  # someone else, after the page was opened
        "provider_a", f"{API}/units/{unit['id']}", {"version": unit["version"], "cots": 2}
    )
    assert changed.status_code == 200, changed.text
    provider.get_by_role("radio", name="Out of service").check()
    provider.get_by_label("Reason it is out of service").select_option(label="Staffing")
    provider.get_by_role("button", name="Save status").click()
    refused = provider.get_by_test_id("refused")
    expect(refused).to_contain_text("Someone else changed this unit")
    assert "version" not in refused.inner_text().lower()
    assert get_unit(api, unit["id"])["status"] == "available"
    check_page(provider, "provider-unit-conflict")

    # The page now carries the unit as it is, so the same change goes through.
    provider.get_by_role("radio", name="Out of service").check()
    provider.get_by_label("Reason it is out of service").select_option(label="Staffing")
    provider.get_by_role("button", name="Save status").click()
    expect(provider.get_by_text("The unit's status has been changed")).to_be_visible()
    assert get_unit(api, unit["id"])["out_of_service_reason"] == "staffing"


def test_a_new_scheme_and_unit_through_the_forms(api: Actors, provider: Page) -> None:
    name = f"Whalley Range House {uuid.uuid4().hex[:6]}"
    provider.goto("/provider")
    provider.get_by_role("link", name="Add a scheme").click()
    check_page(provider, "provider-scheme-new")
    provider.get_by_label("Name", exact=True).fill(name)
    provider.get_by_label("Type of scheme").select_option(label="Refuge")
    provider.get_by_label("Address").fill("3 Quiet Lane, Whalley Range, Manchester")
    provider.get_by_label("Postcode", exact=True).fill("m20 2rn")
    provider.get_by_label("Who the scheme takes").select_option(label="Women only")
    provider.get_by_label("Highest risk level taken").select_option(label="High")
    provider.get_by_label("Mental health").check()
    provider.get_by_role("button", name="Add scheme").click()
    expect(provider.get_by_text("The scheme has been added")).to_be_visible()
    card = provider.locator("[data-testid=scheme]", has_text=name)
    expect(card).to_contain_text("M20")
    expect(card).to_contain_text("Manchester")
    assert "Quiet Lane" not in provider.content(), "the address is never shown back"

    listed = api.get("provider_a", f"{API}/schemes", params={"limit": 500}).json()["items"]
    scheme = next(s for s in listed if s["name"] == name)
    assert scheme["postcode_district"] == "M20" and scheme["support"] == ["mental_health"]
    location = api.get("provider_a", f"{API}/schemes/{scheme['id']}/location").json()
    assert location["postcode"] == "M20 2RN"
    centre = districts()["M20"]
    assert (location["latitude"], location["longitude"]) == (centre.latitude, centre.longitude)

    card.get_by_role("link", name="Add a unit").click()
    check_page(provider, "provider-unit-new")
    provider.get_by_label("Name of the unit").fill("Flat 2")
    provider.get_by_label("Bedrooms").fill("2")
    provider.get_by_label("Bed spaces").fill("3")
    provider.get_by_label("Step free").check()
    provider.get_by_role("button", name="Add unit").click()
    expect(provider.get_by_text("The unit has been added")).to_be_visible()
    card = provider.locator("[data-testid=scheme]", has_text=name)
    expect(card).to_contain_text("Flat 2")
    expect(card).to_contain_text("Available")
    units = api.get("provider_a", f"{API}/units", params={"scheme_id": scheme["id"]}).json()
    assert [(u["label"], u["bed_spaces"], u["access_features"]) for u in units["items"]] == [
        ("Flat 2", 3, ["step_free"])
    ]


def test_bad_input_shows_the_error_summary_and_writes_nothing(api: Actors, provider: Page) -> None:
    schemes, units = scheme_total(api), unit_total(api)
    provider.goto("/provider/schemes/new")
    provider.get_by_label("Name", exact=True).fill("Nowhere House")
    provider.get_by_label("Type of scheme").select_option(label="Refuge")
    provider.get_by_label("Address").fill("1 Nowhere Street")
    provider.get_by_label("Postcode", exact=True).fill("NOT A POSTCODE")
    provider.get_by_label("Who the scheme takes").select_option(label="Women only")
    provider.get_by_label("Highest risk level taken").select_option(label="High")
    provider.get_by_role("button", name="Add scheme").click()
    summary = provider.locator(".govuk-error-summary")
    expect(summary).to_contain_text("full UK postcode")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#postcode")
    expect(provider.get_by_label("Name", exact=True)).to_have_value("Nowhere House")
    check_page(provider, "provider-scheme-new-error")

    provider.get_by_label("Postcode", exact=True).fill("M14 6AB")
    provider.get_by_label("Postcode district (optional)").fill("M16")  # Trafford's centre
    provider.get_by_role("button", name="Add scheme").click()
    expect(summary).to_contain_text("The centre of M16 is in Trafford")
    provider.get_by_label("Postcode district (optional)").fill("SK1")  # Stockport's
    provider.get_by_label("Local authority").select_option(label="Manchester")
    provider.get_by_role("button", name="Add scheme").click()
    expect(summary).to_contain_text("The centre of SK1 is not in Manchester")
    assert scheme_total(api) == schemes

    scheme, _ = fresh_unit(api)
    units += 1
    provider.goto(f"/provider/units/new?scheme={scheme['id']}")
    provider.get_by_label("Name of the unit").fill("Room 9")
    provider.get_by_label("Bedrooms").fill("1")
    provider.get_by_label("Bed spaces").fill("0")
    provider.get_by_role("button", name="Add unit").click()
    expect(provider.locator(".govuk-error-summary")).to_be_visible()
    expect(provider.locator(".govuk-error-summary a")).to_have_attribute("href", "#bed_spaces")
    assert unit_total(api) == units
    check_page(provider, "provider-unit-new-error")


def test_a_provider_cannot_see_another_providers_schemes(api: Actors, provider: Page) -> None:
    theirs, their_unit = fresh_unit(api, "provider_b")
    provider.goto("/provider")
    assert theirs["name"] not in provider.content()
    response = provider.goto(f"/provider/units/{their_unit['id']}")
    assert response is not None and response.status == 404
    response = provider.goto(f"/provider/units/new?scheme={theirs['id']}")
    assert response is not None and theirs["name"] not in provider.content()


def test_posts_without_the_csrf_token_are_refused(api: Actors, provider: Page) -> None:
    schemes = scheme_total(api)
    _, unit = fresh_unit(api)
    refused = provider.request.post(
        "/provider/schemes/new",
        form={
            "name": "Forged House",
            "scheme_type": "refuge",
            "address": "1 Forged Road",
            "postcode": "M14 6AB",
            "gender_policy": "women_only",
            "max_risk_level": "high",
        },
    )
    assert refused.status == 403
    refused = provider.request.post(f"/provider/units/{unit['id']}/retire", form={})
    assert refused.status == 403
    assert scheme_total(api) == schemes + 1  # only fresh_unit's
    assert get_unit(api, unit["id"])["retired_at"] is None


def test_a_move_out_records_the_outcome_and_frees_the_unit(api: Actors, provider: Page) -> None:
    _, unit = fresh_unit(api)
    placement = place(api, create_referral(api)["id"], unit["id"])
    provider.goto("/provider")
    row = provider.locator(f"[data-unit-id='{unit['id']}']")
    expect(row).to_contain_text("Occupied")
    row.get_by_role("link", name="Record move-out").click()
    check_page(provider, "provider-move-out")
    provider.get_by_role("button", name="Record move-out").click()
    expect(provider.locator(".govuk-error-summary")).to_contain_text("Select why support ended")
    provider.get_by_label("Why support ended").select_option(
        label="Moved to settled social housing"
    )
    provider.get_by_role("button", name="Record move-out").click()
    expect(provider.get_by_text("The move-out has been recorded")).to_be_visible()
    moved = api.get("provider_a", f"{API}/placements/{placement['id']}").json()
    assert moved["move_out_reason"] == "settled_social" and moved["moved_out_at"]
    assert get_unit(api, unit["id"])["status"] == "available"


def test_the_inbox_works_without_javascript(api: Actors, site: Site, browser: Browser) -> None:
    context = browser.new_context(base_url=site.base_url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, site.accounts["provider"])
        page.goto("/provider/offers")
        _, unit = fresh_unit(api)
        made = make_offer(api, create_referral(api)["id"], unit["id"])
        page.get_by_role("link", name="refresh the list").click()
        card = page.locator(f"[data-offer-id='{made['id']}']")
        card.get_by_role("button", name="Accept").click()
        expect(page.get_by_text("You accepted the offer")).to_be_visible()
        assert offer_of(api, made["id"])["status"] == "accepted"
    finally:
        context.close()
