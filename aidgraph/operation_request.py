"""What a GraphQL request asks to run: its JSON body read, and a registered operation's id turned into its text.

A body sends the document's text (`query`), or a registered operation's id, in either of two shapes:

- `{"documentId": "sha256:<hex>", "variables": ...}`, the GraphQL over HTTP persisted-documents shape;
- `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}, "variables": ...}`,
  Apollo's persisted queries, so that clients built for those work unchanged.

An id is answered with the registered text, and only for a client that may use it: an operation
registered for another client is answered exactly as an unknown id is. An unknown id is refused
(`PERSISTED_DOCUMENT_NOT_FOUND`, or Apollo's own `PERSISTED_QUERY_NOT_FOUND` for its shape) and
never registered on the fly, whatever text comes with it. A body with a text and an id runs only
when the text hashes to the id. A text that is exactly a registered operation's is that operation.
Whether unregistered text may run at all is `registered_only`'s answer, after the caller is admitted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from aidgraph.admission import BodyTooLarge, read_body, too_large
from aidgraph.settings import DEFAULT_MAX_REQUEST_BYTES
from auth.principal import Principal
from registered.documents import DOCUMENT_ID, DOCUMENT_ID_PREFIX, document_id
from registered.served import RegisteredOperations, Served

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"  # Apollo's clients resend the text on this code
NOT_REGISTERED = "OPERATION_NOT_REGISTERED"
_HASH = re.compile(r"[0-9a-fA-F]{64}")


def json_response(payload: Mapping[str, Any], status: int = 200, media_type: str = JSON) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type=f"{media_type}; charset=utf-8")


def bad_request(message: str, status: int = 400, code: str = "BAD_REQUEST") -> Response:
    return json_response({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


def answer_media_type(accept: str | None) -> str | None:
    """The media type to answer in, by the request's `Accept`; None when it accepts none the hub gives.

    No `Accept`, `*/*` and `application/*` get `application/json`, what clients older than the spec's
    own media type expect. Ties in quality go to the first listed."""
    if accept is None or not accept.strip():
        return JSON
    ranges: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept.split(",")):
        media, *parameters = (part.strip().lower() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranges.append((-quality, position, media))
    for _, _, media in sorted(ranges):
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return None


def request_error(message: str, code: str, accept: str | None) -> Response:
    """Nothing executed: 400 in the spec's own media type, 200 in plain JSON (as a document that does not parse)."""
    media_type = answer_media_type(accept) or JSON
    status = 400 if media_type == GRAPHQL_RESPONSE else 200
    return json_response({"errors": [{"message": message, "extensions": {"code": code}}]}, status, media_type)


@dataclass(frozen=True)
class OperationRequest:
    """What a body asks to run: a text, a registered operation's id, or both."""

    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    document_id: str | None = None  # `sha256:<hex>`, whichever shape sent it
    persisted_query: bool = False  # the id came in Apollo's shape, whose clients expect its own code


@dataclass(frozen=True)
class Chosen:
    """The text to run, and the registered operation it is (None: unregistered text)."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    document_id: str | None


async def read_operation(
    request: Request, *, max_bytes: int = DEFAULT_MAX_REQUEST_BYTES
) -> OperationRequest | Response:
    """The body's text or id, variables and operation name, or the response refusing it."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return bad_request("send the GraphQL request as a JSON body (Content-Type: application/json)", 415)
    try:
        body = orjson.loads(await read_body(request, limit=max_bytes))
    except BodyTooLarge as error:
        return too_large(error)
    except orjson.JSONDecodeError as error:
        return bad_request(f"the body is not valid JSON: {error}")
    if not isinstance(body, dict):
        return bad_request('the JSON body needs a "query" string or a "documentId"')
    variables = body.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return bad_request('"variables" must be a JSON object')
    operation_name = body.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        return bad_request('"operationName" must be a string')
    # One that is not a map is malformed (the spec's MAY); of its entries the hub reads `persistedQuery` only.
    extensions = body.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        return bad_request('"extensions" must be a JSON object')
    asked = _document_id(body.get("documentId"), (extensions or {}).get("persistedQuery"))
    if isinstance(asked, Response):
        return asked
    wanted, persisted_query = asked
    query = body.get("query")
    if query is not None and not isinstance(query, str):
        return bad_request('"query" must be a string')
    if query is None and wanted is None:
        return bad_request('the JSON body needs a "query" string or a "documentId"')
    return OperationRequest(query, variables, operation_name, wanted, persisted_query)


def _document_id(sent: object, persisted_query: object) -> tuple[str | None, bool] | Response:
    """The id a body names (in either shape), and whether in Apollo's; or the refusal of a malformed one."""
    wanted = None
    if sent is not None:
        if not isinstance(sent, str) or not DOCUMENT_ID.fullmatch(sent):
            return bad_request(f'"documentId" must be "{DOCUMENT_ID_PREFIX}" and 64 lower-case hex digits')
        wanted = sent
    if persisted_query is None:
        return wanted, False
    digest = persisted_query.get("sha256Hash") if isinstance(persisted_query, dict) else None
    if not isinstance(persisted_query, dict) or persisted_query.get("version") != 1 or not isinstance(digest, str):
        return bad_request('"extensions.persistedQuery" must be {"version": 1, "sha256Hash": "<64 hex digits>"}')
    if not _HASH.fullmatch(digest):
        return bad_request('"extensions.persistedQuery.sha256Hash" must be 64 hex digits')
    named = DOCUMENT_ID_PREFIX + digest.lower()
    if wanted is not None and wanted != named:
        return bad_request('"documentId" and "extensions.persistedQuery" name different documents: send one')
    return named, True


def choose(
    asked: OperationRequest,
    registered: RegisteredOperations | None,
    *,
    client_id: str | None,
    accept: str | None,
    from_memory: bool = False,
) -> Chosen | Response:
    """The text the request runs, or its refusal: an unknown id, or a text that is not the id's.

    `from_memory`: the registered operations as this worker holds them, never read from the store
    (the event loop's call, after `RegisteredOperations.answers_from_memory`)."""

    def find(wanted: str) -> Served | None:
        return registered.find(wanted, client_id=client_id, from_memory=from_memory) if registered else None

    if asked.document_id is None:
        assert asked.query is not None
        of_text = registered.of_text if registered else None
        served = of_text(asked.query, client_id=client_id, from_memory=from_memory) if of_text else None
        return Chosen(asked.query, asked.variables, asked.operation_name, served.document_id if served else None)
    if asked.query is not None:
        if document_id(asked.query) != asked.document_id:
            return bad_request("the query sent is not the document its id names: its SHA-256 differs")
        served = find(asked.document_id)
        # a text that hashes to an unknown id is that text, unregistered: it runs where unregistered text may
        return Chosen(asked.query, asked.variables, asked.operation_name, served.document_id if served else None)
    served = find(asked.document_id)
    if served is None:
        # The same words whether the id was never registered, is another client's, or no longer validates.
        if asked.persisted_query:
            return request_error("PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND, accept)
        message = f"no registered operation {asked.document_id} is served to this client"
        return request_error(message, DOCUMENT_NOT_FOUND, accept)
    return Chosen(served.text, asked.variables, asked.operation_name, served.document_id)


def registered_only(principal: Principal | None, *, hub_wide: bool) -> str | None:
    """Why this caller may not run unregistered text, or None when it may."""
    if hub_wide:
        return "this hub runs registered operations only: send a registered operation's documentId"
    if principal is not None and principal.registered_only:
        return f"client {principal.client_id} may run registered operations only: send its documentId"
    return None
