"""The commissioner's protocol what-if in a real browser: from the what-if page, a form
asks what one of the area's authorities joining or leaving a protocol in force would do;
the question is a job whose page shows its figures; a change the rules refuse is named
in words and queues nothing."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import protocol_body
from tests.pages.conftest import Site, Visit
from tests.pages.harness import check_page, needs_chromium, sign_in
from tests.pages.what_if_steps import (
    add_waiting_households,
    ask_for_a_quarter,
    assert_placed_row_shows,
    jobs_of,
    post_api,
    refused_pages,
)

pytestmark = needs_chromium
PROTOCOL = "/commissioner/what-if/protocol"


def test_the_commissioner_asks_what_an_authority_leaving_a_protocol_would_do(
    site: Site, visit: Visit
) -> None:
    add_waiting_households(site, "Protocol")
    protocol = post_api(site, "admin", "/protocols", protocol_body())
    page = visit.page
    sign_in(page, site.accounts["commissioner"], then="/commissioner/what-if")
    page.get_by_role("link", name="Ask what a change to a protocol would do").click()
    check_page(page, "commissioner-what-if-protocol")
    page.get_by_label("Which protocol").select_option(value=protocol["id"])
    page.get_by_label("The authority leaves it").check()
    page.get_by_label("Which authority").select_option(label="Stockport")
    job = ask_for_a_quarter(
        site, page, "Ask what the protocol change would do", "Stockport leaves the protocol"
    )
    assert job["parameters"]["protocol"]["protocol_id"] == protocol["id"]
    assert job["parameters"]["protocol"]["action"] == "leave"
    assert_placed_row_shows(page, job)


def test_a_protocol_change_the_rules_refuse_is_named_and_queues_nothing(
    site: Site, visit: Visit
) -> None:
    protocol = post_api(site, "admin", "/protocols", protocol_body(name="GM second protocol"))
    page = visit.page
    sign_in(page, site.accounts["commissioner"], then=PROTOCOL)
    before = jobs_of(site)
    with page.expect_response(f"**{PROTOCOL}") as answer:
        page.get_by_role("button", name="Ask what the protocol change would do").click()
    assert answer.value.status == 422
    expect(page.locator("#protocol_id-error")).to_contain_text("Choose the protocol")
    page.get_by_label("Which protocol").select_option(value=protocol["id"])
    page.get_by_label("The authority joins it").check()
    page.get_by_label("Which authority").select_option(label="Manchester")
    with page.expect_response(f"**{PROTOCOL}") as answer:
        page.get_by_role("button", name="Ask what the protocol change would do").click()
    assert answer.value.status == 422
    expect(page.locator("#authority_code-error")).to_contain_text(
        "That authority is already a member: it cannot join"
    )
    check_page(page, "commissioner-what-if-protocol-invalid")
    assert jobs_of(site) == before
    refused_pages(visit)
