"""Signing in to the console: password, first-time password change, second factor, signing out.

The steps are the sign-in's own (auth/people/signin.py: lockout, one answer for every wrong name or
password, the audit events); these pages only carry them. A session exists from the right password
on, at the stage the person has reached, and only the page of that stage opens for it (guard.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aidgraph.console.guard import (
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    STAGE_PAGES,
    Visitor,
    form_token,
    go_to,
    page,
    refusal,
    same_token,
    set_cookie,
    visitor_of,
)
from aidgraph.console.pages import PREFIX, messages_of, render, with_security_headers
from aidgraph.settings import Settings
from auth.limiter import FailureLockout
from auth.people.sessions import cookie_value
from auth.people.signin import Outcome, SignIn, Verdict

LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = 15 * 60.0
LOCKOUT_SECONDS = 15 * 60.0


class SignInPages:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        # Per worker, like every limiter of the hub: a guessing loop is stopped after a few tries.
        self.lockout = FailureLockout(limit=LOCKOUT_FAILURES, window=LOCKOUT_WINDOW, lockout=LOCKOUT_SECONDS)

    def routes(self) -> list[Route]:
        return [
            Route("/sign-in", self.sign_in_form, methods=["GET"]),
            Route("/sign-in", self.sign_in, methods=["POST"]),
            Route("/password", self.password_form, methods=["GET"]),
            Route("/password", self.change_password, methods=["POST"]),
            Route("/second-factor/enrol", self.enrol_form, methods=["GET"]),
            Route("/second-factor/enrol", self.enrol, methods=["POST"]),
            Route("/second-factor", self.second_factor_form, methods=["GET"]),
            Route("/second-factor", self.second_factor, methods=["POST"]),
            Route("/sign-out", self.sign_out, methods=["POST"]),
        ]

    def _signin(self, request: Request) -> SignIn:
        return SignIn(
            request.state.engine,
            lockout=self.lockout,
            audit=request.state.audit,
            idle_timeout=self._settings.console_idle_timeout,
        )

    async def step(self, request: Request, step: Callable[[SignIn], Outcome]) -> Outcome:
        """One step of the sign-in, on an execution thread (it reads the store and hashes)."""
        signin = self._signin(request)
        return cast(Outcome, await request.state.threads.call(lambda: step(signin)))

    # --- password ---------------------------------------------------------------------------------

    async def sign_in_form(self, request: Request, *, error: str | None = None, status: int = 200) -> Response:
        token, new_cookie = form_token(request)
        context = {
            "form_token": token,
            "error": error,
            "oidc": getattr(self._settings, "oidc_issuer", None) is not None,
        }
        response = render(request, "signin/sign_in.html", context, status=status)
        if new_cookie is not None:
            set_cookie(request, response, PRESESSION_COOKIE, new_cookie)
        return with_security_headers(response)

    async def sign_in(self, request: Request) -> Response:
        form = await request.form()
        held = request.cookies.get(PRESESSION_COOKIE, "")
        if not held or not same_token(form.get("csrf"), held):
            return with_security_headers(refusal(request, 403, "csrf_refused"))
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        address = _address(request)
        outcome = await self.step(request, lambda signin: signin.password(name, password, address=address))
        if outcome.verdict is not Verdict.PASSED:
            return await self.sign_in_form(request, error=_refused(request, outcome), status=_status(outcome))
        return with_security_headers(self.next_step(request, outcome))

    def next_step(self, request: Request, outcome: Outcome) -> Response:
        """The page of the step that comes next, with the session's cookie: renewed at every step, so a
        cookie seen before a step passed is worth nothing after it."""
        if outcome.token is None or outcome.stage is None:  # the session ended meanwhile
            response = go_to(request, "/sign-in")
            response.delete_cookie(SESSION_COOKIE, path=PREFIX)
            return response
        response = go_to(request, STAGE_PAGES[outcome.stage])
        set_cookie(request, response, SESSION_COOKIE, cookie_value(request.state.engine, outcome.token))
        return response

    # --- first password change --------------------------------------------------------------------

    @property
    def password_form(self) -> Any:
        @page(stage="change-password")
        async def password_form(request: Request, visitor: Visitor) -> Response:
            return render(request, "signin/password.html", {"error": None})

        return password_form

    @property
    def change_password(self) -> Any:
        @page(stage="change-password")
        async def change_password(request: Request, visitor: Visitor) -> Response:
            assert visitor.form is not None
            new, again = str(visitor.form.get("password", "")), str(visitor.form.get("again", ""))
            if new != again:
                error = messages_of(request)("signin.passwords_differ")
                return render(request, "signin/password.html", {"error": error}, status=422)
            address = _address(request)
            outcome = await self.step(request, lambda s: s.change_password(visitor.token, new, address=address))
            if outcome.verdict is not Verdict.PASSED and outcome.stage == "change-password":
                # The rule the new password broke, in the sign-in's words (auth/people/passwords.py).
                return render(request, "signin/password.html", {"error": outcome.message}, status=422)
            return self.next_step(request, outcome)

        return change_password

    # --- second factor ----------------------------------------------------------------------------

    async def _enrol_page(self, request: Request, visitor: Visitor, *, error: str | None, status: int) -> Response:
        made = await request.state.threads.call(lambda: self._signin(request).enrol_totp(visitor.token))
        if made is None:
            return go_to(request, "/sign-in")
        secret, uri, svg = made
        context = {"secret": secret, "uri": uri, "svg": svg, "error": error}
        return render(request, "signin/enrol.html", context, status=status)

    @property
    def enrol_form(self) -> Any:
        @page(stage="enrol-totp")
        async def enrol_form(request: Request, visitor: Visitor) -> Response:
            return await self._enrol_page(request, visitor, error=None, status=200)

        return enrol_form

    @property
    def enrol(self) -> Any:
        @page(stage="enrol-totp")
        async def enrol(request: Request, visitor: Visitor) -> Response:
            assert visitor.form is not None
            # The secret comes back from the page that showed it: nothing is stored before a code proves it.
            secret = str(visitor.form.get("secret", ""))
            code = str(visitor.form.get("code", "")).strip()
            address = _address(request)
            outcome = await self.step(request, lambda s: s.confirm_totp(visitor.token, secret, code, address=address))
            if outcome.verdict is not Verdict.PASSED and outcome.stage == "enrol-totp":
                error = messages_of(request)("signin.code_wrong")
                return await self._enrol_page(request, visitor, error=error, status=422)
            return self.next_step(request, outcome)

        return enrol

    @property
    def second_factor_form(self) -> Any:
        @page(stage="totp")
        async def second_factor_form(request: Request, visitor: Visitor) -> Response:
            return render(request, "signin/second_factor.html", {"error": None})

        return second_factor_form

    @property
    def second_factor(self) -> Any:
        @page(stage="totp")
        async def second_factor(request: Request, visitor: Visitor) -> Response:
            assert visitor.form is not None
            code = str(visitor.form.get("code", "")).strip()
            address = _address(request)
            outcome = await self.step(request, lambda s: s.totp(visitor.token, code, address=address))
            if outcome.verdict is Verdict.PASSED or outcome.token is None:
                return self.next_step(request, outcome)
            error = _refused(request, outcome, wrong="signin.code_wrong")
            return render(request, "signin/second_factor.html", {"error": error}, status=_status(outcome))

        return second_factor

    # --- signing out ------------------------------------------------------------------------------

    async def sign_out(self, request: Request) -> Response:
        """Ends the session in the store at once, whatever stage it had reached; the cookie goes with it."""
        visitor = await visitor_of(request)
        if visitor is not None:
            form = await request.form()
            if not same_token(form.get("csrf"), visitor.csrf):
                return with_security_headers(refusal(request, 403, "csrf_refused"))
            await request.state.threads.call(lambda: self._signin(request).sign_out(visitor.token))
        response = go_to(request, "/sign-in")
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return with_security_headers(response)


def _refused(request: Request, outcome: Outcome, *, wrong: str = "signin.failed") -> str:
    """The visitor's words for a refused step: the same for every wrong name or password."""
    t = messages_of(request)
    if outcome.verdict is Verdict.LOCKED and outcome.retry_after is not None:
        return t("signin.locked", minutes=max(1, math.ceil(outcome.retry_after / 60)))
    return t(wrong)


def _status(outcome: Outcome) -> int:
    return 429 if outcome.verdict is Verdict.LOCKED else 401


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
