"""The harness works as the pages' tests rely on: a person signs in through the form and
sees their role and organisation; the sign-in page passes axe and fits 320 px; a post
without its CSRF token is refused with a 403 page."""

from __future__ import annotations

from tests.pages.conftest import Site, Visit
from tests.pages.harness import check_page, needs_chromium, sign_in

pytestmark = needs_chromium


def test_sign_in_page_is_accessible_and_narrow(visit: Visit) -> None:
    visit.page.goto("/sign-in")
    check_page(visit.page, "sign-in")


def test_a_person_signs_in_and_sees_who_they_are(site: Site, visit: Visit) -> None:
    sign_in(visit.page, site.accounts["commissioner"])
    assert visit.page.url.endswith("/commissioner")
    who = visit.page.get_by_test_id("signed-in-as").inner_text()
    assert "Commissioner" in who and "Greater Manchester" in who
    check_page(visit.page, "commissioner-landing")


def test_a_post_without_its_csrf_token_is_refused(site: Site, visit: Visit) -> None:
    response = visit.page.request.post(
        "/sign-in",
        form={"email": site.accounts["admin"].email, "password": site.accounts["admin"].password},
    )
    assert response.status == 403
    assert "CSRF" in response.text()
