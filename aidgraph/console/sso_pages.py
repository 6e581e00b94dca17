"""Signing in through the deployment's single sign-on (OpenID Connect, authorization code with PKCE).

On by configuration (AIDGRAPH_OIDC_ISSUER and the rest, aidgraph/settings.py); the protocol is
auth/people/oidc.py's. The issuer only says who the person is: the session is the sign-in's own
(auth/people/signin.py `single_sign_on`), so their permissions, roles and regions come from the hub's
user table, and those who need a second factor still give the hub's code.

Two cookies cross the issuer's redirects, so each is chosen for it. The pending sign-in (state, nonce,
PKCE verifier, signed and good for ten minutes) is SameSite=Lax: the issuer's redirect back is a
cross-site navigation, on which a Strict cookie is not sent. The session cookie stays Strict, and for the
same reason the callback answers with a page that moves on by itself (a refresh from the console's own
page is same-site, so the Strict cookie goes with it) rather than with a redirect.
"""

from __future__ import annotations

import logging
from typing import Final

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from aidgraph.console.guard import SESSION_COOKIE, STAGE_PAGES, refusal, set_cookie
from aidgraph.console.pages import PREFIX, messages_of, render, with_security_headers
from aidgraph.console.signin_pages import SignInPages
from auth.hub_keys import hub_key
from auth.people.oidc import OidcError, Provider, begin, finish, pending_from_cookie, pending_to_cookie
from auth.people.sessions import COOKIE_KEY, cookie_value
from auth.people.signin import Verdict

PENDING_COOKIE: Final = "aidgraph-sso"
log = logging.getLogger(__name__)


class SingleSignOnPages:
    def __init__(self, provider: Provider, signin: SignInPages) -> None:
        self._provider = provider
        self._signin = signin

    def routes(self) -> list[Route]:
        return [
            Route("/sign-in/sso", self.start, methods=["GET"]),
            Route("/sign-in/sso/callback", self.callback, methods=["GET"]),
        ]

    async def start(self, request: Request) -> Response:
        """To the issuer, with a fresh state, nonce and PKCE challenge kept in the pending cookie."""
        try:
            url, pending = await request.state.threads.call(lambda: begin(self._provider))
        except OidcError as error:
            return with_security_headers(self._failed(request, error))
        key = hub_key(request.state.engine, COOKIE_KEY)
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            PENDING_COOKIE,
            pending_to_cookie(pending, key),
            max_age=600,
            path=f"{PREFIX}/sign-in/sso",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return with_security_headers(response)

    async def callback(self, request: Request) -> Response:
        key = hub_key(request.state.engine, COOKIE_KEY)
        held = request.cookies.get(PENDING_COOKIE, "")
        pending = pending_from_cookie(held, key) if held else None
        if pending is None:
            return with_security_headers(self._failed(request, OidcError("no sign-in was started here, or it expired")))
        code = request.query_params.get("code", "")
        state = request.query_params.get("state", "")
        try:
            name = await request.state.threads.call(lambda: finish(self._provider, pending, code=code, state=state))
        except OidcError as error:
            return with_security_headers(self._failed(request, error))
        address = request.client.host if request.client else None
        outcome = await self._signin.step(request, lambda signin: signin.single_sign_on(name, address=address))
        if outcome.verdict is not Verdict.PASSED or outcome.token is None or outcome.stage is None:
            response = await self._signin.sign_in_form(
                request, error=messages_of(request)("signin.sso_refused"), status=403
            )
        else:
            response = render(request, "signin/continue.html", {"next": PREFIX + STAGE_PAGES[outcome.stage]})
            set_cookie(request, response, SESSION_COOKIE, cookie_value(request.state.engine, outcome.token))
        response.delete_cookie(PENDING_COOKIE, path=f"{PREFIX}/sign-in/sso")
        return with_security_headers(response)

    @staticmethod
    def _failed(request: Request, error: OidcError) -> Response:
        # The reason is for the operator's log; the person gets the console's words, nothing of the tokens.
        log.warning("single sign-on failed: %s", error)
        return refusal(request, 403, "sso_failed")
