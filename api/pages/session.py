"""Signing in and out: the sign-in page, its form, and the sign-out button's post.

The check itself is the domain's (`placement.accounts.sign_in`: argon2, lock-out,
audit); the page only shows the outcome. Wrong email, wrong password and a disabled
account all read "wrong email or password", so the page does not tell a guesser which
emails have accounts; a lock-out says so, with how long it lasts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from api.pages.auth import start_session
from api.pages.forms import INVALID, FieldError, FormInvalid, read_form
from api.pages.rendering import page
from placement.accounts import LockoutPolicy, SignInRefusal, record_sign_out, sign_in
from placement.config import Settings
from placement.security import Principal


class SignInForm(msgspec.Struct):
    email: str
    password: str
    next: str = "/"


SIGN_IN_REQUIRED = {"email": "Enter your email address", "password": "Enter your password"}


def lockout_policy(settings: Settings) -> LockoutPolicy:
    return LockoutPolicy(
        max_failures=settings.sign_in_max_failures,
        window=timedelta(seconds=settings.sign_in_window_seconds),
        lock_for=timedelta(seconds=settings.lockout_seconds),
    )


def safe_next(target: str) -> str:
    """Where to go after signing in: a path on this service only (no open redirect)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


class SessionPages(Controller):
    """/sign-in and /sign-out."""

    include_in_schema = False

    @get("/sign-in")
    async def sign_in_page(
        self,
        request: Request[Any, Any, Any],
        next_path: Annotated[str, QueryParameter(name="next")] = "/",
        signed_out: FromQuery[bool] = False,
        ended: FromQuery[bool] = False,
    ) -> Template:
        notice = (
            "You have signed out."
            if signed_out
            else "Your session has ended. Sign in again to carry on."
            if ended
            else None
        )
        return page(request, "sign_in.html", next=safe_next(next_path), email="", notice=notice)

    @post("/sign-in")
    async def sign_in_form(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        state: State,
    ) -> Template | Redirect:
        try:
            form = await read_form(request, SignInForm, SIGN_IN_REQUIRED)
        except FormInvalid as invalid:
            posted = await request.form()
            email, back = str(posted.get("email") or ""), str(posted.get("next") or "/")
            return self._again(request, invalid.errors, email, back)
        settings: Settings = state.settings
        outcome = await sign_in(db_session, form.email, form.password, lockout_policy(settings))
        # Committed whatever the outcome: a failure's count and audit event must stay.
        await db_session.commit()
        if isinstance(outcome, Principal):
            start_session(request, outcome)
            return Redirect(path=safe_next(form.next), status_code=303)
        if outcome is SignInRefusal.LOCKED:
            minutes = max(1, round(settings.lockout_seconds / 60))
            message = (
                "This account is locked after repeated failed sign-ins. Try again in "
                f"{minutes} minutes, or ask an administrator."
            )
        else:
            message = "Enter a correct email address and password"
        errors = [FieldError("email", message)]
        return self._again(request, errors, form.email, form.next, status=401)

    @staticmethod
    def _again(
        request: Request[Any, Any, Any],
        errors: list[FieldError],
        email: str,
        back: str,
        status: int = INVALID,
    ) -> Template:
        """The form again, with its errors (and the email typed, never the password)."""
        return page(
            request,
            "sign_in.html",
            status_code=status,
            errors=errors,
            email=email,
            next=safe_next(back),
        )

    @post("/sign-out")
    async def sign_out(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
    ) -> Redirect:
        record_sign_out(db_session, principal)
        await db_session.commit()
        request.clear_session()
        return Redirect(path="/sign-in?signed_out=true", status_code=303)
