"""The secured gate of `/graphql`: token -> principal -> purpose -> policy view, and one audit event after.

Refusals happen before any resolver runs, and are audited like answers: every request that returns
personal data, and every refusal of an authenticated caller, writes exactly one event. When the event
cannot be written the answer is not sent (the endpoint turns AuditUnavailable into a 503). A request
without a valid token is only counted (auth/audit/refusals.py): its 401 is answered at once, whether
or not the trail can be written, and a flood of them adds one event per source and minute.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.access import Access, access_for
from auth.audit import NOT_FOUND, AuditEvent, AuditWriter, Caller, audit_event, document_hash, misses_detail
from auth.authenticate import Authenticator, Unauthenticated, claimed_client_id, unauthenticated_response
from auth.disclosure import Disclosure, DisclosureProfile, disclose, extensions_of
from auth.policy import PolicyError
from auth.policy_store import PolicyCache
from auth.principal import Principal
from auth.request_log import request_log_of
from auth.tracing import span

PURPOSE_HEADER = "x-purpose"
CASE_HEADER = "x-case-id"
_CASE_ID_MAX = 100


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


def _refusal(refused: Refused) -> Response:
    status = 400 if refused.code in ("PURPOSE_REQUIRED", "BAD_REQUEST") else 403
    body = {"errors": [{"message": refused.message, "extensions": {"code": refused.code}}]}
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


class SecuredGate:
    """Tokens, purposes, policies and the audit trail around every GraphQL request (DESIGN §3)."""

    def __init__(
        self, authenticator: Authenticator, profile_of: Callable[[str, str | None], DisclosureProfile]
    ) -> None:
        """`profile_of(query, operation_name)`: the disclosure profile from the schema's cached analysis."""
        self._authenticator = authenticator
        self._profile_of = profile_of

    async def admit(self, request: Request, operation: Any | None) -> Access | Response:
        principal: Principal | None = None
        purpose: str | None = None
        try:
            with span("authenticate"):
                principal = await self._authenticator.authenticate(request)
            request_log_of(request).client = principal.client_id
            purpose = choose_purpose(principal, request.headers.get(PURPOSE_HEADER))
            case_id = _case_id(request)
            policies: PolicyCache = request.state.policies
            try:
                policy = policies.current()  # cached; reads the store at most every few seconds
            except PolicyError:
                # Stored before the hub's checks grew stricter: refused cleanly until a corrected one is applied.
                raise Refused("FORBIDDEN", "the hub's current access policy no longer passes its checks") from None
            if policy is None:
                raise Refused("FORBIDDEN", "no access policy has been applied to this hub (aidgraph policy apply)")
        except Unauthenticated as problem:
            audit: AuditWriter = request.state.audit
            audit.count_unauthenticated(  # never waits: the count is written once its minute is over
                claimed_client_id=claimed_client_id(request),
                address=request.client.host if request.client else None,
                reason=problem.reason if problem.error is not None else "no access token",
            )
            return unauthenticated_response(problem)
        except Refused as refused:
            await self._refused(request, operation, principal, purpose, f"{refused.code}: {refused.message}")
            return _refusal(refused)
        return access_for(principal, purpose, policy, case_id=case_id)

    async def settle(
        self, request: Request, operation: Any, access: Access, errors: list[GraphQLError]
    ) -> dict[str, Any]:
        profile = self._profile_of(operation.query, operation.operation_name)
        disclosure = disclose(access, profile.fields)
        forbidden = [error for error in errors if (error.extensions or {}).get("code") == "FORBIDDEN"]
        # a RATE_LIMITED look-up is among the misses
        if disclosure.personal or disclosure.withheld or access.subjects or access.misses or forbidden:
            audit: AuditWriter = request.state.audit
            with span("audit"):
                await audit.append(self._event(request, operation, access, disclosure, profile.operation, errors))
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
            actor=None,  # a client system asked; no person is named
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
        event = audit_event(
            "refused",
            caller=Caller.refused(
                principal, purpose=purpose, case_id=request.headers.get(CASE_HEADER, "")[:_CASE_ID_MAX] or None
            ),
            actor=None,
            operation=self._profile_of(operation.query, operation.operation_name).operation if operation else None,
            document_hash=document_hash(request.state.engine, operation.query) if operation else None,
            detail=detail,
        )
        audit: AuditWriter = request.state.audit
        with span("audit"):
            await audit.append(event)
