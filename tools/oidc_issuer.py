"""A small local OpenID provider for tests: discovery, /authorize, /token and /jwks, and faults on request.

It signs in whoever `LocalIssuer.user` names without asking (a test plays the person), and checks
what a real issuer checks: the client, its redirect URI, `response_type=code`, PKCE with S256, a
code used once only, the verifier against the challenge, the client's secret when it has one.
`faults` makes the ID tokens it issues wrong in one way each, so the relying party can be seen refusing them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import ECKey, KeyParameters, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tools.serving import loopback_socket, serving

DEFAULT_CLIENT_ID = "aidgraph-console"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8000/admin/sso/callback"
TOKEN_LIFETIME_SECONDS = 300
_PKCE_VALUE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


class Fault(StrEnum):
    """One way an ID token can be wrong."""

    WRONG_AUDIENCE = "wrong-audience"
    WRONG_NONCE = "wrong-nonce"
    EXPIRED = "expired"
    BAD_SIGNATURE = "bad-signature"  # signed by a key other than the one published under its kid
    ALG_NONE = "alg-none"
    HS256_WITH_PUBLIC_KEY = "hs256-with-public-key"  # the algorithm-confusion attack
    SEVERAL_AUDIENCES = "several-audiences"  # and no azp
    WRONG_ISSUER = "wrong-issuer"


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    user: str


@dataclass
class LocalIssuer:
    """One registered client; `url` is set when it is served (serve_issuer)."""

    client_id: str = DEFAULT_CLIENT_ID
    redirect_uri: str = DEFAULT_REDIRECT_URI
    client_secret: str | None = None
    user: str = "wang.li"
    algorithm: str = "RS256"  # or ES256
    faults: set[Fault] = field(default_factory=set)
    url: str = ""
    # what the relying party did, for tests to look at
    requests: list[str] = field(default_factory=list)  # "GET /jwks", ...
    client_authentications: list[str] = field(default_factory=list)  # "client_secret_basic" or "none"
    _key: RSAKey | ECKey = field(init=False, repr=False)
    _grants: dict[str, _Grant] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.rotate_key()

    def rotate_key(self) -> None:
        """Sign with a new key from now on, and publish only it."""
        self._key = _new_key(self.algorithm)

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/authorize", self._authorize),
                Route("/token", self._token, methods=["POST"]),
                Route("/jwks", self._jwks),
            ]
        )

    async def _discovery(self, request: Request) -> Response:
        self.requests.append("GET /.well-known/openid-configuration")
        return JSONResponse(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [self.algorithm],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        self.requests.append("GET /jwks")
        return JSONResponse({"keys": [dict(self._key.as_dict(private=False))]})

    async def _authorize(self, request: Request) -> Response:
        self.requests.append("GET /authorize")
        asked = request.query_params
        # RFC 6749 §4.1.2.1: an unknown client or redirect URI is told to the person, never redirected to.
        if asked.get("client_id") != self.client_id:
            return PlainTextResponse("unknown client", status_code=400)
        if asked.get("redirect_uri") != self.redirect_uri:
            return PlainTextResponse("redirect_uri is not the registered one", status_code=400)
        state = asked.get("state")
        if asked.get("response_type") != "code":
            return self._back({"error": "unsupported_response_type"}, state)
        if "openid" not in asked.get("scope", "").split():
            return self._back({"error": "invalid_scope"}, state)
        challenge = asked.get("code_challenge", "")
        if asked.get("code_challenge_method") != "S256" or not _PKCE_VALUE.fullmatch(challenge):
            return self._back({"error": "invalid_request", "error_description": "PKCE with S256 required"}, state)
        code = secrets.token_urlsafe(32)
        self._grants[code] = _Grant(self.client_id, self.redirect_uri, challenge, asked.get("nonce"), self.user)
        return self._back({"code": code}, state)

    def _back(self, parameters: dict[str, str], state: str | None) -> Response:
        if state is not None:
            parameters["state"] = state
        return RedirectResponse(f"{self.redirect_uri}?{urlencode(parameters)}", status_code=302)

    async def _token(self, request: Request) -> Response:
        self.requests.append("POST /token")
        # parsed by hand, as the hub's own token endpoint does: no multipart library for one urlencoded form
        sent = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        refusal = self._client_refusal(request, sent)
        if refusal is not None:
            return refusal
        if sent.get("grant_type") != "authorization_code":
            return _error("unsupported_grant_type")
        grant = self._grants.pop(sent.get("code", ""), None)  # once only, even when what follows fails
        if grant is None or grant.redirect_uri != sent.get("redirect_uri"):
            return _error("invalid_grant")
        verifier = sent.get("code_verifier", "")
        expected = grant.code_challenge.encode()
        if not _PKCE_VALUE.fullmatch(verifier) or not hmac.compare_digest(
            create_s256_code_challenge(verifier).encode(), expected
        ):
            return _error("invalid_grant", "code_verifier does not match the code_challenge")
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(32),
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME_SECONDS,
                "id_token": self.id_token(grant.user, nonce=grant.nonce),
            },
            headers={"Cache-Control": "no-store"},
        )

    def _client_refusal(self, request: Request, sent: dict[str, str]) -> Response | None:
        header = request.headers.get("authorization", "")
        if self.client_secret is None:
            self.client_authentications.append("none")
            return (
                None if sent.get("client_id") == self.client_id and not header else _error("invalid_client", status=401)
            )
        self.client_authentications.append("client_secret_basic")
        scheme, _, encoded = header.partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:
            return _error("invalid_client", status=401)
        if scheme.lower() != "basic" or unquote(client_id) != self.client_id:
            return _error("invalid_client", status=401)
        if not hmac.compare_digest(unquote(secret).encode(), self.client_secret.encode()):
            return _error("invalid_client", status=401)
        return None

    def id_token(self, user: str, *, nonce: str | None) -> str:
        """An ID token for `user`, as right or as wrong as `faults` say."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": "https://someone-else.example" if Fault.WRONG_ISSUER in self.faults else self.url,
            "sub": f"subject-{user}",
            "aud": self.client_id,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_SECONDS,
            "preferred_username": user,
        }
        if nonce is not None:
            claims["nonce"] = "not-the-nonce" if Fault.WRONG_NONCE in self.faults else nonce
        if Fault.WRONG_AUDIENCE in self.faults:
            claims["aud"] = "another-client"
        if Fault.SEVERAL_AUDIENCES in self.faults:
            claims["aud"] = [self.client_id, "another-client"]
        if Fault.EXPIRED in self.faults:
            claims["iat"], claims["exp"] = now - 2 * TOKEN_LIFETIME_SECONDS, now - TOKEN_LIFETIME_SECONDS
        header = {"alg": self.algorithm, "kid": self._key.kid, "typ": "JWT"}
        if Fault.ALG_NONE in self.faults:
            return _unsigned({**header, "alg": "none"}, claims) + "."
        if Fault.HS256_WITH_PUBLIC_KEY in self.faults:
            signing_input = _unsigned({**header, "alg": "HS256"}, claims)
            secret = self._key.as_pem(private=False)
            return f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"
        key = self._key
        if Fault.BAD_SIGNATURE in self.faults:
            key = _new_key(self.algorithm)
        return jwt.encode(header, claims, key, algorithms=[self.algorithm])


def _new_key(algorithm: str) -> RSAKey | ECKey:
    parameters: KeyParameters = {"alg": algorithm, "use": "sig"}
    if algorithm == "ES256":
        return ECKey.generate_key("P-256", parameters=parameters, auto_kid=True)
    return RSAKey.generate_key(2048, parameters=parameters, auto_kid=True)


def _error(code: str, description: str | None = None, status: int = 400) -> Response:
    body = {"error": code} | ({"error_description": description} if description else {})
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@contextmanager
def serve_issuer(issuer: LocalIssuer) -> Iterator[str]:
    """Serve `issuer` on a free loopback port (tools/serving.py); yield its URL (also `issuer.url`)."""
    listening, issuer.url = loopback_socket()
    with serving(issuer.app, listening=listening, lifespan="off", start_timeout=20) as url:
        yield url
