"""Signing in and out in a real browser: the right password lands on the role's page,
a wrong one shows the error summary, repeated wrong ones lock the account, signing out
and an expired session (idle or too old) send the person back to sign in; all audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from placement.enums import Role
from placement.models import PageSession
from tests.pages.conftest import Site, Visit
from tests.pages.harness import Account, check_page, needs_chromium, screenshot, sign_in, sign_out

pytestmark = needs_chromium
WRONG = "Enter a correct email address and password"


def summary(visit: Visit) -> list[str]:
    return visit.page.locator(".govuk-error-summary__list a").all_inner_texts()


def test_an_admin_signs_in_lands_on_their_page_and_signs_out(site: Site, visit: Visit) -> None:
    account = site.new_account(Role.ADMIN)
    sign_in(visit.page, account)
    assert visit.page.url == f"{site.base_url}/admin"
    assert "Administrator" in visit.page.get_by_test_id("signed-in-as").inner_text()
    check_page(visit.page, "admin-landing")
    sign_out(visit.page)
    assert visit.page.url.endswith("/sign-in?signed_out=true")
    assert visit.page.get_by_test_id("notice").inner_text() == "You have signed out."
    visit.page.goto("/admin")  # the session is gone: back to sign in
    assert visit.page.url.endswith("/sign-in?next=%2Fadmin")
    mine = [e for e in site.audit("sign_in") if e["actor_label"] == account.email]
    assert len(mine) == 1
    assert [e for e in site.audit("sign_out") if e["actor_label"] == account.email]


def test_after_sign_in_the_page_asked_for_is_shown(site: Site, visit: Visit) -> None:
    visit.page.goto("/admin/authorities")
    assert "/sign-in?next=" in visit.page.url
    visit.page.get_by_label("Email address").fill(site.accounts["admin"].email)
    visit.page.get_by_label("Password").fill(site.accounts["admin"].password)
    visit.page.get_by_role("button", name="Sign in").click()
    visit.page.wait_for_url("**/admin/authorities")


def test_a_wrong_password_shows_the_error_summary_and_is_audited(site: Site, visit: Visit) -> None:
    account = site.new_account(Role.COMMISSIONER, region="Greater Manchester")
    response = None
    visit.page.goto("/sign-in")
    visit.page.get_by_label("Email address").fill(account.email)
    visit.page.get_by_label("Password").fill("not the password")
    with visit.page.expect_response("**/sign-in") as answer:
        visit.page.get_by_role("button", name="Sign in").click()
    response = answer.value
    assert response.status == 401
    assert summary(visit) == [WRONG]
    assert visit.page.title().startswith("Error: ")
    assert visit.page.get_by_label("Email address").input_value() == account.email
    assert visit.page.get_by_label("Password").input_value() == ""  # never sent back
    check_page(visit.page, "sign-in-wrong-password")
    failed = [e for e in site.audit("sign_in_failed") if e["actor_label"] == account.email]
    assert [e["detail"]["failures"] for e in failed] == [1]


def test_empty_fields_are_named_in_the_summary(visit: Visit) -> None:
    visit.page.goto("/sign-in")
    visit.page.get_by_role("button", name="Sign in").click()
    assert summary(visit) == ["Enter your email address"]
    visit.page.locator(".govuk-error-summary__list a").first.click()
    assert visit.page.evaluate("document.activeElement.id") == "email"


def test_repeated_failures_lock_the_account(site: Site, visit: Visit) -> None:
    account = site.new_account(Role.ADMIN)
    wrong = Account(account.email, "guess-guess-guess")
    for _ in range(site.settings.sign_in_max_failures - 1):
        sign_in(visit.page, wrong)
        assert summary(visit) == [WRONG]
    sign_in(visit.page, wrong)
    [locked] = summary(visit)
    assert locked.startswith("This account is locked after repeated failed sign-ins")
    screenshot(visit.page, "sign-in-locked")
    sign_in(visit.page, account)  # the right password, while locked
    assert summary(visit) == [locked]
    assert "/sign-in" in visit.page.url
    refused = [e for e in site.audit("sign_in_refused") if e["actor_label"] == account.email]
    assert [e["detail"]["reason"] for e in refused] == ["locked"]


def _sessions_of(site: Site) -> list[str]:
    async def work(db: AsyncSession) -> list[str]:
        return list(await db.scalars(select(PageSession.session_id)))

    return site.in_database(work)


def test_an_idle_session_ends(site: Site, visit: Visit) -> None:
    sign_in(visit.page, site.accounts["admin"])
    cookie = next(c for c in visit.page.context.cookies() if c["name"] == "placement_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert cookie["value"] in _sessions_of(site)

    async def idle_past_expiry(db: AsyncSession) -> None:
        await db.execute(
            update(PageSession)
            .where(PageSession.session_id == cookie["value"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    site.in_database(idle_past_expiry)
    visit.page.goto("/admin/users")
    assert "/sign-in?next=%2Fadmin%2Fusers&ended=true" in visit.page.url
    assert "Your session has ended" in visit.page.get_by_test_id("notice").inner_text()
    assert cookie["value"] not in _sessions_of(site)


def test_a_session_older_than_the_limit_ends_however_used(site: Site, visit: Visit) -> None:
    sign_in(visit.page, site.accounts["admin"])
    cookie = next(c for c in visit.page.context.cookies() if c["name"] == "placement_session")
    too_old = datetime.now(UTC).timestamp() - site.settings.session_max_seconds - 1

    async def signed_in_long_ago(db: AsyncSession) -> None:
        row = await db.scalar(select(PageSession).where(PageSession.session_id == cookie["value"]))
        assert row is not None
        data = json.loads(row.data)
        row.data = json.dumps({**data, "signed_in_at": int(too_old)}).encode()

    site.in_database(signed_in_long_ago)
    visit.page.goto("/admin")
    assert "/sign-in" in visit.page.url and "ended=true" in visit.page.url


def test_a_new_session_id_at_sign_in(site: Site, visit: Visit) -> None:
    """A session id planted before sign-in (session fixation) is not the one signed in."""
    planted = "a" * 64
    visit.page.context.add_cookies(
        [{"name": "placement_session", "value": planted, "url": site.base_url}]
    )
    sign_in(visit.page, site.accounts["admin"])
    cookie = next(c for c in visit.page.context.cookies() if c["name"] == "placement_session")
    assert cookie["value"] != planted
    assert planted not in _sessions_of(site)
