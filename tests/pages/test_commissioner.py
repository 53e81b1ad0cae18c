"""The commissioner's pages in a real browser: the period picker leads to the Part 4
report of their own area (the API's report: same figures, same audit), as a page with
the report page's policy or as the CSV; others are refused; a bad period is named. The
what-if form queues a job whose page shows its figures; bad or out-of-area questions are
named and queue nothing."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import expect

from api.headers import PAGES_POLICY
from tests.conftest import WESTMINSTER
from tests.pages.conftest import Site, Visit
from tests.pages.harness import check_page, needs_chromium, sign_in, sign_out
from tests.pages.what_if_steps import (
    add_waiting_households,
    ask_for_a_quarter,
    assert_placed_row_shows,
    jobs_of,
    refused_pages,
)

pytestmark = needs_chromium
REPORT = "/commissioner/reports/part4"


def test_the_commissioner_picks_a_quarter_and_reads_their_areas_report(
    site: Site, visit: Visit
) -> None:
    sign_in(visit.page, site.accounts["commissioner"])
    before = len(site.audit("report"))
    visit.page.goto("/commissioner")
    check_page(visit.page, "commissioner-landing")
    picker = visit.page.get_by_label("Period (whole quarters that have ended)")
    single_quarter = picker.locator("option").nth(1)
    value = single_quarter.get_attribute("value")
    assert value is not None
    picker.select_option(value=value)
    with visit.page.expect_navigation() as navigation:
        visit.page.get_by_role("button", name="Show the report").click()
    response = navigation.value
    assert response is not None and response.status == 200
    assert response.headers["content-security-policy"] == PAGES_POLICY
    heading = visit.page.locator("h1").inner_text()
    assert heading.endswith("Greater Manchester")
    check_page(visit.page, "commissioner-part4")
    start, end = value.split("/")
    api = site.api(
        "/api/v1/reports/part4", region="Greater Manchester", **{"from": start, "to": end}
    ).json()
    assert api["period_from"] == start and api["period_to"] == end
    assert [t["title"] for t in api["tables"]] == visit.page.locator("h2").all_inner_texts()[
        -len(api["tables"]) :
    ]
    assert len(site.audit("report")) == before + 2  # the page's read, then the test's own


def test_the_csv_is_one_row_per_figure_of_the_same_report(site: Site, visit: Visit) -> None:
    sign_in(visit.page, site.accounts["commissioner"])
    answer = visit.page.request.get(f"{REPORT}?format=csv")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text())))
    api = site.api("/api/v1/reports/part4", region="Greater Manchester", format="csv")
    assert rows == list(csv.DictReader(io.StringIO(api.text)))
    assert rows and {row["area"] for row in rows} == {"Greater Manchester"}


def test_a_bad_period_is_named_and_other_roles_are_refused(site: Site, visit: Visit) -> None:
    sign_in(visit.page, site.accounts["commissioner"])
    bad = visit.page.goto(f"{REPORT}?period=2025-02-01/2025-03-31")
    assert bad is not None and bad.status == 422
    assert "first day of a quarter" in visit.page.content()
    sign_out(visit.page)
    sign_in(visit.page, site.accounts["officer"])
    refused = visit.page.goto(REPORT)
    assert refused is not None and refused.status == 403


def test_the_commissioner_asks_what_adding_units_would_do_and_reads_the_answer(
    site: Site, visit: Visit
) -> None:
    """The question is a job; its page follows it and then shows the simulated
    difference as the job's figures say, in a table and two charts."""
    add_waiting_households(site, "What-if")
    page = visit.page
    sign_in(page, site.accounts["commissioner"])
    page.goto("/commissioner")
    page.get_by_role("link", name="Ask what a change would do").click()
    check_page(page, "commissioner-what-if")
    page.get_by_label("How many units").fill("2")
    page.get_by_label("In which authority").select_option(label="Manchester")
    job = ask_for_a_quarter(
        site, page, "Ask what the change would do", "Add 2 refuge units in Manchester"
    )
    check_page(page, "commissioner-what-if-answer")
    assert job["parameters"]["change"]["count"] == 2 and job["parameters"]["days"] == 91
    assert_placed_row_shows(page, job)
    charts = page.locator("img[src^='data:image/svg+xml']")
    expect(charts).to_have_count(2)
    assert "95% intervals" in (charts.first.get_attribute("alt") or "")


def test_a_what_if_outside_the_rules_or_the_area_is_named_and_queues_nothing(
    site: Site, visit: Visit
) -> None:
    page = visit.page
    sign_in(page, site.accounts["commissioner"], then="/commissioner/what-if")
    before = jobs_of(site)
    page.get_by_label("How many units").fill("0")
    page.get_by_label("In which authority").select_option(label="Manchester")
    with page.expect_response("**/commissioner/what-if") as answer:
        page.get_by_role("button", name="Ask what the change would do").click()
    assert answer.value.status == 422
    expect(page.locator("#count-error")).to_contain_text(
        "Enter a whole number of units from 1 to 200"
    )
    # An authority outside Greater Manchester, as a tampered form would send it.
    page.get_by_label("How many units").fill("2")
    page.locator("#authority_code option").first.evaluate(
        "(option, code) => { option.value = code; option.selected = true }", WESTMINSTER[0]
    )
    with page.expect_response("**/commissioner/what-if") as answer:
        page.get_by_role("button", name="Ask what the change would do").click()
    assert answer.value.status == 422
    expect(page.locator("#authority_code-error")).to_contain_text("Greater Manchester")
    assert jobs_of(site) == before
    refused_pages(visit)
    sign_out(page)
    sign_in(page, site.accounts["officer"])
    refused = page.goto("/commissioner/what-if")
    assert refused is not None and refused.status == 403
    refused_pages(visit)
