"""The administrator's pages in a real browser: a user made through the form can sign
in; a form with bad input shows the error summary and writes nothing; keys are issued
(shown once, working at the API) and revoked; protocols added; accounts disabled; a
post without its CSRF token is refused. Every page: axe, 320 px, a screenshot."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.enums import Role
from placement.models import User
from tests.pages.conftest import Site, Visit
from tests.pages.harness import Account, check_page, needs_chromium, screenshot, sign_in

pytestmark = needs_chromium
PAGES = (
    ("/admin", "admin-landing"),
    ("/admin/users", "admin-users"),
    ("/admin/users/new", "admin-user-new"),
    ("/admin/keys", "admin-keys"),
    ("/admin/keys/new", "admin-key-new"),
    ("/admin/authorities", "admin-authorities"),
    ("/admin/protocols", "admin-protocols"),
    ("/admin/protocols/new", "admin-protocol-new"),
)


def users_count(site: Site) -> int:
    async def work(db: AsyncSession) -> int:
        return int(await db.scalar(select(func.count()).select_from(User)) or 0)

    return site.in_database(work)


def summary(visit: Visit) -> list[str]:
    return visit.page.locator(".govuk-error-summary__list a").all_inner_texts()


def test_every_admin_page_is_accessible_and_fits_320_px(site: Site, visit: Visit) -> None:
    sign_in(visit.page, site.accounts["admin"])
    for path, name in PAGES:
        response = visit.page.goto(path)
        assert response is not None and response.status == 200, path
        check_page(visit.page, name)


def test_an_admin_creates_a_user_who_can_then_sign_in(site: Site, visit: Visit) -> None:
    sign_in(visit.page, site.accounts["admin"])
    visit.page.goto("/admin/users/new")
    email = "new.commissioner@manchester.gov.uk"
    visit.page.get_by_label("Email address").fill(email)
    visit.page.get_by_label("Role").select_option(label="Commissioner")
    visit.page.get_by_label("Authority").select_option(label="Manchester")
    visit.page.get_by_role("button", name="Create user").click()
    assert visit.page.locator("h1").inner_text() == "User created"
    password = visit.page.get_by_test_id("new-password").inner_text()
    check_page(visit.page, "admin-user-created")
    visit.page.goto("/admin/users")
    row = visit.page.get_by_test_id("user-row").filter(has_text=email)
    assert "Commissioner" in row.inner_text() and "Manchester" in row.inner_text()
    [created] = [
        e
        for e in site.audit("create")
        if e["record_type"] == "user" and e["detail"].get("email") == email
    ]
    assert created["actor_label"] == site.accounts["admin"].email
    # The new person signs in (a fresh session, as another browser would).
    visit.page.context.clear_cookies()
    sign_in(visit.page, Account(email, password))
    assert visit.page.url.endswith("/commissioner")
    assert "Commissioner, Manchester" in visit.page.get_by_test_id("signed-in-as").inner_text()


def test_a_form_with_bad_input_shows_the_summary_and_writes_nothing(
    site: Site, visit: Visit
) -> None:
    sign_in(visit.page, site.accounts["admin"])
    before = users_count(site)
    visit.page.goto("/admin/users/new")
    visit.page.get_by_label("Email address").fill("someone@stockport.gov.uk")
    visit.page.get_by_label("Role").select_option(label="Housing officer")
    with visit.page.expect_response("**/admin/users") as answer:
        visit.page.get_by_role("button", name="Create user").click()
    assert answer.value.status == 422
    [message] = summary(visit)
    assert "scoped to one authority" in message
    field = visit.page.locator("#authority_code-error")
    assert "scoped to one authority" in field.inner_text()
    assert visit.page.get_by_label("Email address").input_value() == "someone@stockport.gov.uk"
    check_page(visit.page, "admin-user-new-error")
    # A rule of the shape (the API's msgspec rule): not an email at all.
    visit.page.get_by_label("Email address").fill("no")
    visit.page.get_by_label("Authority").select_option(label="Stockport")
    visit.page.get_by_role("button", name="Create user").click()
    assert summary(visit) and "email" in visit.page.locator(
        ".govuk-error-message"
    ).first.get_attribute("id")  # type: ignore[operator]
    assert users_count(site) == before


def test_a_key_is_issued_shown_once_works_and_is_revoked(site: Site, visit: Visit) -> None:
    sign_in(visit.page, site.accounts["admin"])
    visit.page.goto("/admin/keys/new")
    visit.page.get_by_label("Name").fill("Stockport case system")
    visit.page.get_by_label("Role").select_option(label="Integration")
    visit.page.get_by_label("Authority").select_option(label="Stockport")
    visit.page.get_by_role("button", name="Issue key").click()
    key = visit.page.get_by_test_id("new-key").inner_text()
    screenshot(visit.page, "admin-key-created")
    assert site.api("/api/v1/authorities", key=key).status_code == 200
    visit.page.goto("/admin/keys")
    row = visit.page.get_by_test_id("key-row").filter(has_text="Stockport case system")
    assert key not in visit.page.content()  # listed by its first characters only
    row.get_by_role("button", name="Revoke").click()
    visit.page.wait_for_url("**/admin/keys")
    assert "Revoked" in row.inner_text()
    assert site.api("/api/v1/authorities", key=key).status_code == 401


def test_an_admin_adds_a_protocol(site: Site, visit: Visit) -> None:
    sign_in(visit.page, site.accounts["admin"])
    visit.page.goto("/admin/protocols/new")
    visit.page.get_by_label("Name").fill("London reciprocal")
    visit.page.get_by_label("Kind").select_option(label="Reciprocal")
    visit.page.get_by_label("Who pays for a placement across a border").select_option(
        label="Shared"
    )
    visit.page.get_by_label("Starts on").fill("2026-04-01")
    visit.page.get_by_label("Westminster").check()
    visit.page.get_by_role("button", name="Add protocol").click()
    assert summary(visit), "one member is too few"
    assert visit.page.get_by_label("Westminster").is_checked()  # kept for the next try
    visit.page.get_by_label("Camden").check()
    visit.page.get_by_role("button", name="Add protocol").click()
    visit.page.wait_for_url("**/admin/protocols")
    row = visit.page.get_by_test_id("protocol-row").filter(has_text="London reciprocal")
    assert "Camden, Westminster" in row.inner_text() and "1 April 2026" in row.inner_text()


def test_a_disabled_account_can_no_longer_sign_in(site: Site, visit: Visit) -> None:
    account = site.new_account(Role.HOUSING_OFFICER, authority_code="E08000007")
    sign_in(visit.page, site.accounts["admin"])
    visit.page.goto("/admin/users")
    row = visit.page.get_by_test_id("user-row").filter(has_text=account.email)
    row.get_by_role("button", name="Disable").click()
    visit.page.wait_for_url("**/admin/users")
    assert "Disabled" in row.inner_text()
    visit.page.context.clear_cookies()
    sign_in(visit.page, account)
    assert summary(visit) == ["Enter a correct email address and password"]


def test_a_post_without_its_csrf_token_writes_nothing(site: Site, visit: Visit) -> None:
    sign_in(visit.page, site.accounts["admin"])
    before = users_count(site)
    response = visit.page.request.post(
        "/admin/users", form={"email": "csrf@camden.gov.uk", "role": "admin"}
    )
    assert response.status == 403 and "CSRF" in response.text()
    assert users_count(site) == before


def test_other_roles_get_a_forbidden_page_and_unknown_paths_a_not_found_page(
    site: Site, visit: Visit
) -> None:
    sign_in(visit.page, site.accounts["commissioner"])
    response = visit.page.goto("/admin/users")
    assert response is not None and response.status == 403
    assert visit.page.locator("h1").inner_text() == "You cannot do this"
    check_page(visit.page, "forbidden")
    response = visit.page.goto("/no-such-page")
    assert response is not None and response.status == 404
    assert visit.page.locator("h1").inner_text() == "Page not found"
    check_page(visit.page, "not-found")
    api = visit.page.request.get("/api/v1/no-such-thing")
    assert api.status == 401 or api.headers["content-type"].startswith("application/problem")
