"""Who is at the console, and what every page checks before it runs: session, stage, CSRF, permission.

A page is a handler wrapped by `page(...)`. The wrapper reads the signed session cookie, finds the
session kept in the store (auth/people/sessions.py: signing out or disabling a person ends it at
once, and an idle one expires), sends a visitor who has not finished signing in to the step they
are at, refuses a form whose CSRF token is not the session's, and refuses a person who lacks the
page's permission or role. The handler then gets the `Visitor`; nothing reaches it otherwise.

Forms before sign-in (the sign-in form itself) carry a token bound to a cookie of their own
(`PRESESSION_COOKIE`): no session exists yet, and a forged sign-in must fail as any forged form does.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final

from auth.people.sessions import Session, session_of, token_of_cookie
from auth.people.users import POLICY_APPROVER, POLICY_AUTHOR, USER_ADMIN

__all__ = ["POLICY_APPROVER", "POLICY_AUTHOR", "USER_ADMIN"]
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from aidgraph.console.pages import PREFIX, messages_of, render, with_security_headers

SESSION_COOKIE: Final = "aidgraph-session"
PRESESSION_COOKIE: Final = "aidgraph-form"

SIGNED_IN: Final = "signed-in"
FORM_FIELDS: Final = 50  # no console form has more; a multipart upload (a file) is refused outright
STAGE_PAGES: Final = {
    "change-password": "/password",
    "enrol-totp": "/second-factor/enrol",
    "totp": "/second-factor",
    SIGNED_IN: "/",
}

AUDITOR_ROLE: Final = "auditor"  # the policy role of those who read the trail


@dataclass(frozen=True)
class Section:
    path: str
    label: str


@dataclass(frozen=True)
class Visitor:
    """A person with a session, at some stage of signing in."""

    session: Session
    token: str
    form: FormData | None = None  # a POST's fields, read once by the guard (its CSRF token checked)

    @property
    def name(self) -> str:
        return self.session.user.name

    @property
    def permissions(self) -> frozenset[str]:
        return self.session.user.permissions

    @property
    def roles(self) -> frozenset[str]:
        return self.session.user.roles

    @property
    def regions(self) -> tuple[str, ...]:
        return self.session.user.regions

    @property
    def csrf(self) -> str:
        return self.session.csrf_token

    @property
    def stage(self) -> str:
        return self.session.stage

    @property
    def signed_in(self) -> bool:
        return self.stage == SIGNED_IN

    def may(self, need: str) -> bool:
        """A console permission, or a policy role (the data pages ask for any role at all: `any-role`)."""
        if need == "any-role":
            return bool(self.roles)
        return need in self.permissions or need in self.roles

    @property
    def sections(self) -> list[Section]:
        return [section for need, section in _SECTIONS if any(self.may(one) for one in need)]


_SECTIONS: Final = (
    (("any-role",), Section("/casework", "base.section_casework")),
    (("any-role",), Section("/alerts", "base.section_alerts")),
    ((POLICY_AUTHOR, POLICY_APPROVER), Section("/policies", "base.section_policies")),
    ((AUDITOR_ROLE,), Section("/audit", "base.section_audit")),
    ((USER_ADMIN,), Section("/clients", "base.section_clients")),
    ((USER_ADMIN,), Section("/users", "base.section_users")),
)

Handler = Callable[[Request, Visitor], Awaitable[Response]]


def page(
    *, needs: Sequence[str] = (), stage: str = SIGNED_IN
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler: it runs for a visitor at `stage` holding one of `needs` (none: any signed-in person)."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            visitor = await visitor_of(request)
            if visitor is None:
                return with_security_headers(go_to(request, "/sign-in"))
            if visitor.stage != stage:
                return with_security_headers(go_to(request, STAGE_PAGES.get(visitor.stage, "/sign-in")))
            request.state.visitor = visitor
            if request.method == "POST":
                form = await request.form(max_files=0, max_fields=FORM_FIELDS)
                if not same_token(form.get("csrf"), visitor.csrf):
                    return with_security_headers(refusal(request, 403, "csrf_refused"))
                visitor = Visitor(visitor.session, visitor.token, form)
                request.state.visitor = visitor
            if needs and not any(visitor.may(need) for need in needs):
                return with_security_headers(refusal(request, 403, "forbidden"))
            return with_security_headers(await handler(request, visitor))

        endpoint.__name__ = handler.__name__
        return endpoint

    return wrap


async def visitor_of(request: Request) -> Visitor | None:
    """The session the cookie names, if it is valid, signed, not ended and not idle too long."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    engine = request.state.engine
    console = request.state.console
    token = token_of_cookie(engine, cookie)
    if token is None:
        return None
    session = await request.state.threads.call(
        lambda: session_of(engine, token, idle_timeout=console.settings.console_idle_timeout)
    )
    return None if session is None else Visitor(session, token)


def same_token(given: object, expected: str) -> bool:
    return isinstance(given, str) and bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def go_to(request: Request, path: str) -> Response:
    """A redirect within the console; htmx follows `HX-Redirect` with a whole page instead of a fragment."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": PREFIX + path})
    return RedirectResponse(PREFIX + path, status_code=303)


def refusal(request: Request, status: int, what: str) -> Response:
    """An error page in the visitor's language: a heading and a sentence, nothing about the data."""
    t = messages_of(request)
    context = {"heading": t(f"base.{what}"), "message": t(f"base.{what}_message")}
    return render(request, "error.html", context, status=status)


def form_token(request: Request) -> tuple[str, str | None]:
    """The pre-session form token: the one the cookie holds, or a new one (with the cookie to set)."""
    held = request.cookies.get(PRESESSION_COOKIE)
    if held and len(held) >= 32:
        return held, None
    made = secrets.token_urlsafe(32)
    return made, made


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    """A console cookie: HttpOnly, SameSite=Strict, for /admin only, and Secure whenever served over https."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=served_securely(request),
    )


def served_securely(request: Request) -> bool:
    """Over https as the browser sees it: this request's scheme, or the hub's public https address (behind
    a proxy that ends TLS without saying so, the request itself arrives as plain http)."""
    console = getattr(request.state, "console", None)
    issuer = str(getattr(console.settings, "token_issuer", "")) if console is not None else ""
    return request.url.scheme == "https" or issuer.startswith("https://")
