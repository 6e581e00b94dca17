"""The secured gate of `/graphql`: token -> principal -> purpose -> policy view, and one audit event after.

Two steps before execution: `identify` (the token, the client's rate, the current policy: what needs
no body, so nothing is read or parsed for a caller who is not known) and `admit` (the purpose, the
case id and the policy, with the operation for the refusal's record). Refusals happen before any
resolver runs, and are audited like answers: every request that returns personal data, and every
refusal of an authenticated caller, writes exactly one event. When the event cannot be written the
answer is not sent: a refusal becomes 503 AUDIT_UNAVAILABLE here, an answer in the endpoint. A
request without a valid token is only counted (auth/audit/refusals.py): its 401 is answered at once,
whether or not the trail can be written, and a flood of them adds one event per source and minute. A
client over its rate gets 429 without an event (no operation ran, nothing was disclosed), so a flood
costs the trail nothing either.

The store reads of `identify` (a token's client record, the revocation list, the policy version,
each cached for seconds) run in the request's execution threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.outage import OUTAGE_RETRY_AFTER_SECONDS
from auth.access import Access, access_for
from auth.audit import (
    NOT_FOUND,
    AuditEvent,
    AuditUnavailable,
    AuditWriter,
    Caller,
    audit_event,
    document_hash,
    misses_detail,
)
from auth.authenticate import (
    Authenticator,
    Unauthenticated,
    bearer_token,
    claimed_client_id,
    unauthenticated_response,
)
from auth.disclosure import Disclosure, DisclosureProfile, disclose, extensions_of
from auth.limiter import SlidingWindow, retry_after_header
from auth.policy import CompiledPolicy, PolicyError
from auth.policy_store import PolicyCache
from auth.principal import Principal
from auth.request_log import request_log_of
from auth.tracing import span

PURPOSE_HEADER = "x-purpose"
CASE_HEADER = "x-case-id"
ACTOR_HEADER = "x-actor"
_CASE_ID_MAX = 100
_HISTORY_ACTOR_MAX = 100  # casework_history.actor holds "client-id/actor"
CHANGED = "changed"
"""The outcome of a mutation that changed something: the change and this event commit together."""


class Refused(Exception):
    """Refused before execution: `code` is PURPOSE_REQUIRED or FORBIDDEN; the message says what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def choose_purpose(principal: Principal, declared: str | None) -> str:
    """The request's one purpose: the X-Purpose header, or the token's only purpose."""
    usable = principal.token_purposes & principal.purposes
    if declared is not None:
        if declared not in principal.purposes:
            raise Refused("FORBIDDEN", f"purpose {declared!r} is not allowed for client {principal.client_id}")
        if declared not in principal.token_purposes:
            raise Refused("FORBIDDEN", f"purpose {declared!r} is not among this token's purpose scopes")
        return declared
    if len(usable) == 1:
        return next(iter(usable))
    if not usable:
        raise Refused(
            "PURPOSE_REQUIRED",
            "declare a purpose: request a purpose:<code> scope with the token, or send X-Purpose",
        )
    listed = ", ".join(sorted(usable))
    raise Refused("PURPOSE_REQUIRED", f"the token carries several purposes ({listed}): name one in X-Purpose")


def _case_id(request: Request) -> str | None:
    value = request.headers.get(CASE_HEADER)
    if value is None:
        return None
    if not value or len(value) > _CASE_ID_MAX or not value.isprintable():
        raise Refused("BAD_REQUEST", f"X-Case-Id must be 1-{_CASE_ID_MAX} printable characters")
    return value


def _actor(request: Request, principal: Principal) -> str:
    """The person a mutation is made for: required, since every change names who made it."""
    value = request.headers.get(ACTOR_HEADER)
    if value is None or not value.strip():
        raise Refused(
            "ACTOR_REQUIRED",
            "a mutation needs X-Actor: the caseworker (user name or staff number) the change is made for",
        )
    room = _HISTORY_ACTOR_MAX - len(principal.client_id) - 1
    if len(value) > room or not value.isprintable() or "/" in value:
        raise Refused("BAD_REQUEST", f"X-Actor must be 1-{room} printable characters without '/'")
    return value


def _refusal(refused: Refused) -> Response:
    status = 400 if refused.code in ("PURPOSE_REQUIRED", "BAD_REQUEST", "ACTOR_REQUIRED") else 403
    return error_response(refused.message, refused.code, status)


def error_response(message: str, code: str, status: int, *, retry_after: float | None = None) -> Response:
    """A refusal as GraphQL clients read it: one error with its code, and no `data`."""
    headers = {"Cache-Control": "no-store"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after_header(retry_after)
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


AUDIT_UNAVAILABLE_MESSAGE = "the audit trail is unavailable, so nothing can be returned; try again later"


def audit_unavailable() -> Response:
    """The answer when a request's event cannot be written: nothing else is sent."""
    return error_response(AUDIT_UNAVAILABLE_MESSAGE, "AUDIT_UNAVAILABLE", 503, retry_after=OUTAGE_RETRY_AFTER_SECONDS)


class Threads(Protocol):
    """Where the gate's store reads run (aidgraph.execution.ExecutionThreads)."""

    async def call(self, function: Any, *args: Any) -> Any: ...


@dataclass(frozen=True)
class Identified:
    """Who asks, proved by the token, and the policy in force when they asked (None: none applied yet)."""

    principal: Principal
    policy: CompiledPolicy | None
    policy_broken: bool = False  # the stored policy no longer passes the hub's checks


class SecuredGate:
    """Tokens, purposes, policies and the audit trail around every GraphQL request (DESIGN §3)."""

    def __init__(self, authenticator: Authenticator, *, requests: SlidingWindow | None = None) -> None:
        """`requests`: /graphql and export requests per client (its own registered limit, else the window's)."""
        self._authenticator = authenticator
        self._requests = requests

    async def identify(self, request: Request) -> Identified | Response:
        """The caller and the policy, or 401 / 429; the store's own failures are raised (the endpoint's 503)."""
        threads: Threads = request.state.threads
        try:
            with span("authenticate"):
                identified: Identified = await threads.call(self._identify, request)
            request_log_of(request).client = identified.principal.client_id
        except Unauthenticated as problem:
            audit: AuditWriter = request.state.audit
            audit.count_unauthenticated(  # never waits: the count is written once its minute is over
                claimed_client_id=claimed_client_id(request),
                address=request.client.host if request.client else None,
                reason=problem.reason if problem.error is not None else "no access token",
            )
            return unauthenticated_response(problem)
        principal = identified.principal
        if self._requests is not None:
            wait = self._requests.acquire(principal.client_id, limit=principal.rate_limit)
            if wait is not None:
                message = f"too many requests from client {principal.client_id}: retry in {retry_after_header(wait)} s"
                return error_response(message, "RATE_LIMITED", 429, retry_after=wait)
        return identified

    def _identify(self, request: Request) -> Identified:
        engine = request.state.engine
        principal = self._authenticator.authenticate_token(bearer_token(request), engine=engine)
        policies: PolicyCache = request.state.policies
        try:
            policy = policies.current()  # cached; reads the store at most every few seconds
        except PolicyError:
            return Identified(principal, None, policy_broken=True)
        return Identified(principal, policy)

    async def admit(self, request: Request, identified: Any, operation: Any | None) -> Access | Response:
        """The request's access, or its refusal, recorded with the operation it named (when the body held one)."""
        assert isinstance(identified, Identified)
        principal = identified.principal
        purpose: str | None = None
        try:
            purpose = choose_purpose(principal, request.headers.get(PURPOSE_HEADER))
            case_id = _case_id(request)
            actor = self.actor_of(request, principal, operation)
            if identified.policy_broken:
                # Stored before the hub's checks grew stricter: refused cleanly until a corrected one is applied.
                raise Refused("FORBIDDEN", "the hub's current access policy no longer passes its checks")
            if identified.policy is None:
                raise Refused("FORBIDDEN", "no access policy is live on this hub (aidgraph policy apply, then approve)")
        except Refused as refused:
            try:
                await self._refused(request, operation, principal, purpose, f"{refused.code}: {refused.message}")
            except AuditUnavailable:
                return audit_unavailable()
            return _refusal(refused)
        access = access_for(principal, purpose, identified.policy, case_id=case_id)
        access.actor = actor
        return access

    def actor_of(self, request: Request, principal: Principal, operation: Any | None) -> str | None:
        """The person the request is made for: a mutation's X-Actor; a client system's read names no one."""
        return _actor(request, principal) if operation is not None and operation.mutation else None

    async def refuse(self, request: Request, access: Access, *, operation: str, code: str, message: str) -> Response:
        """An admitted caller refused by the endpoint (an entry point its policy does not grant), recorded."""
        event = audit_event(
            "refused",
            caller=Caller.of(access),
            actor=access.actor,
            operation=operation,
            document_hash=None,  # no document: the endpoint's own request, named by `operation`
            detail=f"{code}: {message}",
        )
        try:
            await self._append(request, event)
        except AuditUnavailable:
            return audit_unavailable()
        return _refusal(Refused(code, message))

    async def settle(
        self, request: Request, operation: Any, access: Access, errors: list[GraphQLError]
    ) -> dict[str, Any]:
        profile: DisclosureProfile = operation.profile  # the endpoint's analysis of the document: the one made
        disclosure = disclose(access, profile.fields)
        forbidden = [error for error in errors if (error.extensions or {}).get("code") == "FORBIDDEN"]
        # a RATE_LIMITED look-up is among the misses
        if disclosure.personal or disclosure.withheld or access.subjects or access.misses or forbidden:
            await self._append(request, self._event(request, operation, access, disclosure, profile.operation, errors))
        return extensions_of(disclosure)

    def settle_change(
        self, request: Request, operation: Any, access: Access, errors: list[GraphQLError], connection: Any
    ) -> dict[str, Any]:
        """After a mutation ran, inside its transaction: its one event, written in that transaction (so the
        change and its event commit together, or neither does); raises AuditUnavailable when it cannot be.

        `changed` when the mutation changed something, `refused` when it did not (a conflict, a change the
        lifecycle refuses, an item that does not exist for the caller): either way the event names the
        actor. Called on the request's execution thread, which holds the transaction."""
        profile: DisclosureProfile = operation.profile
        disclosure = disclose(access, profile.fields)
        codes = sorted({str((error.extensions or {}).get("code", "ERROR")) for error in errors})
        details = list(access.changes) + (["errors: " + ", ".join(codes)] if codes else [])
        event = audit_event(
            CHANGED if access.changes else "refused",
            caller=Caller.of(access),
            actor=access.actor,
            operation=profile.operation,
            document_hash=operation.document_hash,
            subjects=access.subjects,
            disclosure=disclosure,
            detail="; ".join(details) or None,
        )
        audit: AuditWriter = request.state.audit
        audit.log.append_within(connection, [event])
        return extensions_of(disclosure)

    def _event(
        self,
        request: Request,
        operation: Any,
        access: Access,
        disclosure: Disclosure,
        operation_name: str | None,
        errors: list[GraphQLError],
    ) -> AuditEvent:
        codes = sorted({str((error.extensions or {}).get("code", "ERROR")) for error in errors})
        details = [("errors: " + ", ".join(codes))] if codes else []
        if access.misses:  # look-ups that found nothing visible: their keys are subjects too, pseudonymised
            details.append(misses_detail(access.misses))
        found_nothing = bool(access.misses) and not access.subjects
        return audit_event(
            "partial" if errors or disclosure.withheld else (NOT_FOUND if found_nothing else "ok"),
            caller=Caller.of(access),
            actor=access.actor,  # a client system's read names no one; a person in the console is named
            operation=operation_name,
            document_hash=document_hash(request.state.engine, operation.query),
            subjects=access.subjects | {miss.key for miss in access.misses},
            disclosure=disclosure,
            detail="; ".join(details) or None,
        )

    async def _refused(
        self, request: Request, operation: Any | None, principal: Principal | None, purpose: str | None, detail: str
    ) -> None:
        """One event per refusal of an authenticated caller (no purpose, a forbidden one, a bad header...)."""
        profile: DisclosureProfile | None = operation.profile if operation is not None else None
        event = audit_event(
            "refused",
            caller=Caller.refused(
                principal, purpose=purpose, case_id=request.headers.get(CASE_HEADER, "")[:_CASE_ID_MAX] or None
            ),
            actor=None,
            operation=profile.operation if profile is not None else None,
            document_hash=document_hash(request.state.engine, operation.query) if operation else None,
            detail=detail,
        )
        await self._append(request, event)

    async def _append(self, request: Request, event: AuditEvent) -> None:
        audit: AuditWriter = request.state.audit
        # Shielded: a request that stops waiting (its timeout) leaves its event to the batch it joined.
        with span("audit"):
            await asyncio.shield(audit.append(event))
