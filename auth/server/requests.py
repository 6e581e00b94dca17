"""An authlib OAuth2Request from a Starlette request: the form read once, async, and checked as RFC 6749 asks."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

import sqlalchemy as sa
from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error, OAuth2Payload, OAuth2Request
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.server.config import TokenSettings

MAX_FORM_BYTES = 16 * 1024
_FORM_TYPE = "application/x-www-form-urlencoded"


class _FormPayload(OAuth2Payload):
    def __init__(self, form: Mapping[str, str]) -> None:
        self._form = form

    @property
    def data(self) -> Mapping[str, str]:
        return self._form

    @property
    def datalist(self) -> dict[str, list[str]]:
        return {name: [value] for name, value in self._form.items()}


class StarletteOAuth2Request(OAuth2Request):
    """An OAuth2Request over an already-read form; also carries the store it is answered from."""

    def __init__(self, *, method: str, uri: str, headers: Headers, form: Mapping[str, str], engine: sa.Engine) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self.payload = _FormPayload(form)
        self._form = form
        self.engine = engine

    @property
    def form(self) -> Mapping[str, str]:
        return self._form

    @property
    def args(self) -> Mapping[str, str]:
        return {}


async def read_oauth_request(request: Request, *, settings: TokenSettings, engine: sa.Engine) -> StarletteOAuth2Request:
    """The form parameters, checked for what RFC 6749 forbids; InvalidRequestError otherwise."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != _FORM_TYPE:
        raise InvalidRequestError(f"send the parameters as {_FORM_TYPE}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_FORM_BYTES:
            raise InvalidRequestError(f"request body larger than {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidRequestError("unreadable form body") from error
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # RFC 6749 §3.2: parameters MUST NOT be included more than once
            raise InvalidRequestError(f"parameter {_printable(name)} given more than once")
        form[name] = value
    basic = request.headers.get("authorization", "").lower().startswith("basic ")
    if basic and "client_secret" in form:  # RFC 6749 §2.3: one authentication method per request
        raise InvalidRequestError("authenticate with HTTP Basic or client_secret, not both")
    # The issuer's URL, not the one seen behind a TLS-terminating proxy: authlib checks it is https
    # (or loopback), which TokenSettings already made sure of.
    uri = settings.endpoint(request.url.path)
    return StarletteOAuth2Request(method=request.method, uri=uri, headers=request.headers, form=form, engine=engine)


def _printable(text: str) -> str:
    return text if not invalid_error_characters(text) else "(unprintable)"


def error_response(error: OAuth2Error) -> Response:
    status, body, headers = error()
    return JSONResponse(body, status_code=status, headers=dict(headers))
