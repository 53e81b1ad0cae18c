"""The commissioner's protocol what-if in a real browser: from the what-if page, a form
asks what one of the area's authorities joining or leaving a protocol in force would do;
the question is a job whose page shows its figures; a change the rules refuse is named
in words and queues nothing."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import protocol_body, scheme_body, unit_body
from tests.jobs_support import runner
from tests.pages.conftest import Site, Visit
from tests.pages.harness import check_page, needs_chromium, sign_in
from tests.pages.test_commissioner import JOB_WAIT_MS, jobs_of, post_api, refused_pages

pytestmark = needs_chromium
PROTOCOL = "/commissioner/what-if/protocol"


def test_the_commissioner_asks_what_an_authority_leaving_a_protocol_would_do(
    site: Site, visit: Visit
) -> None:
    scheme = post_api(site, "provider_a", "/schemes", scheme_body(site.actors.provider_a))
    post_api(site, "provider_a", "/units", unit_body(scheme["id"], label="Protocol room"))
    for n in range(3):
        household = {"members": [{"age": 30 + n, "gender": "female"}]}
        body = {"reference": f"PROTOCOL-{n}", "risk_level": "high", "household": household}
        post_api(site, "officer", "/referrals", body)
    protocol = post_api(site, "admin", "/protocols", protocol_body())
    page = visit.page
    sign_in(page, site.accounts["commissioner"], then="/commissioner/what-if")
    page.get_by_role("link", name="Ask what a change to a protocol would do").click()
    check_page(page, "commissioner-what-if-protocol")
    page.get_by_label("Which protocol").select_option(value=protocol["id"])
    page.get_by_label("The authority leaves it").check()
    page.get_by_label("Which authority").select_option(label="Stockport")
    page.get_by_label("How long to simulate").select_option(value="91")
    page.get_by_label("How many years to compare").select_option(value="1")
    with runner(site.settings):  # a worker on PostgreSQL; SQLite's service runs it itself
        page.get_by_role("button", name="Ask what the protocol change would do").click()
        expect(page.locator("h1")).to_have_text("Stockport leaves the protocol")
        summary = page.get_by_test_id("what-if-summary")
        expect(summary).to_contain_text("households on average", timeout=JOB_WAIT_MS)
    job = site.api(f"/api/v1/jobs/{page.url.rsplit('/', 1)[1]}").json()
    assert (job["kind"], job["status"]) == ("what_if", "succeeded")
    assert job["parameters"]["protocol"]["protocol_id"] == protocol["id"]
    assert job["parameters"]["protocol"]["action"] == "leave"
    placed = job["result"]["placed"]
    row = page.get_by_role("row").filter(has_text="Households placed")
    assert row.locator("td").all_inner_texts()[1:4] == [
        f"{placed['baseline']:,.1f}",
        f"{placed['changed']:,.1f}",
        f"{placed['difference']:+,.1f}",
    ]


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
