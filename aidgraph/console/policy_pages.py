"""The policy pages: versions, a version's permission matrix (a draft's cells edited by its author), its diff
against the live version, "why" for a client's query, the impact replay, and four-eyes approval.

Every answer comes from the services of auth/policy_admin/ (drafts, four eyes, diff, why, impact) and
the engine's decisions (auth.policy.decide_field): the pages hold no rule of their own. A person's
changes are audited as the console's (client `console`), naming them. A policy author writes drafts,
a policy approver approves them; either may read every page.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import groupby
from typing import Any, Final
from urllib.parse import urlencode

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aidgraph.console.guard import POLICY_APPROVER, POLICY_AUTHOR, Visitor, go_to, page, refusal
from aidgraph.console.pages import render
from aidgraph.console.policy_matrix import MatrixFilter, cell, matrix, roles_of
from aidgraph.policy_why import explain_query
from auth.clients import list_clients
from auth.labels import GOVERNED, LABELS_ORDER
from auth.people.users import CONSOLE
from auth.policy import Policy, PolicyError
from auth.policy_admin import (
    PolicyAdminError,
    VersionRecord,
    approve,
    diff,
    edit_draft,
    impact,
    make_draft,
    rollback,
    versions,
    with_rule,
    withdraw,
)
from auth.policy_admin.cells import BY_LABEL, field_actions
from auth.policy_admin.impact import EXAMPLES
from auth.policy_store import DRAFT, stored_policy

READERS: Final = (POLICY_AUTHOR, POLICY_APPROVER)
DEFAULT_DAYS: Final = 7
MAX_DAYS: Final = 366
_TEXT_LIMIT: Final = 200_000  # a pasted policy or query: far above any real one, far below a flood


class PolicyPages:
    def routes(self) -> list[Route]:
        return [
            Route("/policies", versions_page, methods=["GET"]),
            Route("/policies", new_draft, methods=["POST"]),
            Route("/policies/{version:int}", version_page, methods=["GET"]),
            Route("/policies/{version:int}/cell", cell_page, methods=["GET"]),
            Route("/policies/{version:int}/cell", edit_cell, methods=["POST"]),
            Route("/policies/{version:int}/diff", diff_page, methods=["GET"]),
            Route("/policies/{version:int}/why", why_page, methods=["GET"]),
            Route("/policies/{version:int}/impact", impact_page, methods=["GET"]),
            Route("/policies/{version:int}/impact", run_impact, methods=["POST"]),
            Route("/policies/{version:int}/approve", approve_draft, methods=["POST"]),
            Route("/policies/{version:int}/withdraw", withdraw_draft, methods=["POST"]),
            Route("/policies/{version:int}/rollback", roll_back, methods=["POST"]),
        ]


# --- the versions ------------------------------------------------------------------------------


@page(needs=READERS)
async def versions_page(request: Request, visitor: Visitor) -> Response:
    return await _versions(request)


async def _versions(request: Request, *, status: int = 200, **context: Any) -> Response:
    engine = request.state.engine
    found = await request.state.threads.call(lambda: versions(engine))
    values = {"versions": found, "error": None, "reason": "", "text": "", **context}
    return render(request, "policies/versions.html", values, status=status)


@page(needs=(POLICY_AUTHOR,))
async def new_draft(request: Request, visitor: Visitor) -> Response:
    """A draft from the live version's document (to edit cell by cell) or from a pasted YAML document."""
    form = _form(visitor)
    reason, text = form.get("reason", ""), form.get("text", "")
    engine = request.state.engine

    def draft() -> int:
        if form.get("from") == "live":
            with engine.connect() as connection:
                live = stored_policy(connection)
            if live is None:
                raise PolicyAdminError("no version is live: paste a policy document instead")
            source = f"policy version {live.version}"
            text_now = live.policy.text
            return make_draft(engine, text_now, by=visitor.name, reason=reason, source=source, client_id=CONSOLE)
        if not text.strip():
            raise PolicyAdminError("paste a policy document (YAML), or draft from the live version")
        return make_draft(engine, text, by=visitor.name, reason=reason, source="pasted policy", client_id=CONSOLE)

    try:
        version = await request.state.threads.call(draft)
    except (PolicyError, PolicyAdminError) as error:
        return await _versions(request, status=422, error=str(error), reason=reason, text=text)
    return go_to(request, f"/policies/{version}")


@page(needs=(POLICY_AUTHOR, POLICY_APPROVER))
async def withdraw_draft(request: Request, visitor: Visitor) -> Response:
    version, engine = request.path_params["version"], request.state.engine
    try:
        await request.state.threads.call(lambda: withdraw(engine, version, by=visitor.name, client_id=CONSOLE))
    except PolicyAdminError as error:
        return await _versions(request, status=422, error=str(error))
    return go_to(request, "/policies")


@page(needs=(POLICY_AUTHOR,))
async def roll_back(request: Request, visitor: Visitor) -> Response:
    version, engine = request.path_params["version"], request.state.engine
    try:
        made = await request.state.threads.call(lambda: rollback(engine, version, by=visitor.name, client_id=CONSOLE))
    except PolicyAdminError as error:
        return await _versions(request, status=422, error=str(error))
    return go_to(request, f"/policies/{made}")


# --- one version: its matrix and the cells of a draft --------------------------------------------


class _Version:
    """A version as its pages show it: the record (who, when, status), its policy, and the live one."""

    def __init__(self, record: VersionRecord, policy: Policy, live: Policy | None, live_version: int | None) -> None:
        self.record = record
        self.policy = policy
        self.live = live
        self.live_version = live_version

    def context(self, visitor: Visitor) -> dict[str, Any]:
        draft = self.record.status == DRAFT
        return {
            "record": self.record,
            "version": self.record.version,
            "live_version": self.live_version,
            "editable": draft and visitor.may(POLICY_AUTHOR) and _same(visitor.name, self.record.author),
            "approvable": draft and visitor.may(POLICY_APPROVER),
            "error": None,
        }


async def _version(request: Request) -> _Version | None:
    engine: sa.Engine = request.state.engine
    number = request.path_params["version"]

    def load() -> _Version | None:
        with engine.connect() as connection:
            stored = stored_policy(connection, number)
            live = stored_policy(connection)
        record = next((one for one in versions(engine) if one.version == number), None)
        if stored is None or record is None:
            return None
        return _Version(record, stored.policy, live.policy if live else None, live.version if live else None)

    found: _Version | None = await request.state.threads.call(load)
    return found


def _matrix_context(request: Request, version: _Version, query: Mapping[str, str]) -> dict[str, Any]:
    roles = roles_of(version.policy)
    chosen = MatrixFilter.of(query, roles)
    pairs = [("type", chosen.type_name), ("label", chosen.label), ("q", chosen.text)]
    pairs += [("role", role) for role in chosen.roles]
    return {
        "matrix": matrix(version.policy, chosen),
        "chosen": chosen,
        "filter_query": urlencode([(name, value) for name, value in pairs if value]),
        "types": list(GOVERNED),
        "labels": LABELS_ORDER,
        "roles": roles,
        "editing": None,
        "cell_error": None,
        "oob_state": False,
    }


@page(needs=READERS)
async def version_page(request: Request, visitor: Visitor) -> Response:
    version = await _version(request)
    if version is None:
        return refusal(request, 404, "not_found")
    context = {**version.context(visitor), **_matrix_context(request, version, request.query_params)}
    return render(request, "policies/version.html", {**context, "fragment": "matrix"})


def _editing(version: _Version, role: str, purpose: str, target: str) -> dict[str, Any] | None:
    decision = cell(version.policy, role, purpose, target)
    if decision is None:
        return None
    rules = version.policy.rules[role][purpose]
    return {
        "role": role,
        "purpose": purpose,
        "target": target,
        "decision": decision,
        "actions": field_actions(target),
        "current": rules[target].__str__() if target in rules else BY_LABEL,
        "by_label": BY_LABEL,
        "saved": False,
    }


@page(needs=READERS)
async def cell_page(request: Request, visitor: Visitor) -> Response:
    """One cell: its decision and rule, and for the draft's author the form that changes it."""
    version = await _version(request)
    query = request.query_params
    role, purpose, target = query.get("role", ""), query.get("purpose", ""), query.get("field", "")
    editing = _editing(version, role, purpose, target) if version else None
    if version is None or editing is None:
        return refusal(request, 404, "not_found")
    context = {**version.context(visitor), **_matrix_context(request, version, query), "editing": editing}
    return render(request, "policies/version.html", {**context, "fragment": "editor"})


@page(needs=(POLICY_AUTHOR,))
async def edit_cell(request: Request, visitor: Visitor) -> Response:
    """Set one cell of a draft (a field rule of a role and purpose), through `edit_draft`: the draft only."""
    version = await _version(request)
    form = _form(visitor)
    role, purpose, target = form.get("role"), form.get("purpose"), form.get("field")
    action = form.get("action")
    editing = _editing(version, role, purpose, target) if version else None
    if version is None or editing is None:
        return refusal(request, 404, "not_found")
    engine = request.state.engine
    number = version.record.version
    status = 200
    error = None
    try:
        rule = None if action == BY_LABEL else action
        source = f"policy version {number}"
        text = with_rule(version.policy.text, role=role, purpose=purpose, target=target, action=rule, source=source)
        await request.state.threads.call(lambda: edit_draft(engine, number, text, by=visitor.name, client_id=CONSOLE))
    except (PolicyError, PolicyAdminError) as refused:
        status, error = 422, str(refused)
    else:
        version = await _version(request) or version
        editing = _editing(version, role, purpose, target) or editing
        editing["saved"] = True
    filters = {name: form.get(name, "") for name in ("type", "label", "q")}
    query = _Query(filters, form.getlist("role_filter"))
    context = {**version.context(visitor), **_matrix_context(request, version, query), "editing": editing}
    # htmx swaps the workspace, and the version's facts beside it: their SHA-256 is the draft's new one
    context |= {"cell_error": error, "fragment": "workspace", "oob_state": request.headers.get("hx-request") == "true"}
    return render(request, "policies/version.html", context, status=status)


class _Query(dict[str, str]):
    """A filter sent back by the cell's form, read as the matrix reads a query string."""

    def __init__(self, values: Mapping[str, str], roles: list[str]) -> None:
        super().__init__(values)
        self._roles = roles

    def getlist(self, name: str) -> list[str]:
        return self._roles if name == "role" else []


# --- the diff, why, impact -----------------------------------------------------------------------


@page(needs=READERS)
async def diff_page(request: Request, visitor: Visitor) -> Response:
    version = await _version(request)
    if version is None:
        return refusal(request, 404, "not_found")
    changes = diff(version.live, version.policy)
    groups = [(pair, list(found)) for pair, found in groupby(changes, key=lambda one: (one.role, one.purpose))]
    return render(request, "policies/diff.html", {**version.context(visitor), "groups": groups, "count": len(changes)})


@page(needs=READERS)
async def why_page(request: Request, visitor: Visitor) -> Response:
    """Each field a client's query selects, with the outcome and the rule under this version; never blank."""
    version = await _version(request)
    if version is None:
        return refusal(request, 404, "not_found")
    engine = request.state.engine
    clients = [one for one in await request.state.threads.call(lambda: list_clients(engine)) if not one.disabled]
    query = request.query_params
    chosen = next((one for one in clients if one.client_id == query.get("client")), None)
    purpose, text = query.get("purpose", ""), query.get("query", "")[:_TEXT_LIMIT]
    outcome: list[Any] | None = None
    error = None
    status = 200
    if "client" in query:
        try:
            if chosen is None:
                raise PolicyAdminError("choose a registered client")
            outcome = explain_query(version.policy, chosen, purpose, text)
            if not outcome:
                raise PolicyAdminError("the query selects no entry point and no governed field")
        except PolicyAdminError as refused:
            outcome, error, status = None, str(refused), 422
    purposes = sorted({*version.policy.purposes(), *(chosen.purposes if chosen else ())})
    context = {
        **version.context(visitor),
        "clients": clients,
        "chosen": chosen,
        "purposes": purposes,
        "purpose": purpose,
        "query": text,
        "outcome": outcome,
        "why_error": error,
        "fragment": "outcome",
    }
    return render(request, "policies/why.html", context, status=status)


@page(needs=READERS)
async def impact_page(request: Request, visitor: Visitor) -> Response:
    version = await _version(request)
    if version is None:
        return refusal(request, 404, "not_found")
    context = {**version.context(visitor), "days": DEFAULT_DAYS, "impact": None, "impact_error": None}
    context["examples"] = EXAMPLES
    return render(request, "policies/impact.html", context)


@page(needs=READERS)
async def run_impact(request: Request, visitor: Visitor) -> Response:
    """Replay the trail's last days against this version: computed only when asked, it reads many events."""
    version = await _version(request)
    if version is None:
        return refusal(request, 404, "not_found")
    engine = request.state.engine
    number = version.record.version
    context = {**version.context(visitor), "examples": EXAMPLES, "impact": None, "impact_error": None}
    context["fragment"] = "impact"
    try:
        days = int(_form(visitor).get("days", DEFAULT_DAYS))
        if not 1 <= days <= MAX_DAYS:
            raise ValueError
    except ValueError:
        context |= {"days": DEFAULT_DAYS, "impact_error": f"1 – {MAX_DAYS}"}
        return render(request, "policies/impact.html", context, status=422)
    found = await request.state.threads.call(lambda: impact(engine, number, days=days))
    return render(request, "policies/impact.html", {**context, "days": days, "impact": found})


# --- approval --------------------------------------------------------------------------------------


@page(needs=(POLICY_APPROVER,))
async def approve_draft(request: Request, visitor: Visitor) -> Response:
    """Publish a draft, naming the text read (its SHA-256 as the page showed it); four eyes in `approve`."""
    version = await _version(request)
    if version is None:
        return refusal(request, 404, "not_found")
    engine = request.state.engine
    single = bool(request.state.console.settings.policy_single_person)
    number, sha256 = version.record.version, _form(visitor).get("sha256", "")
    try:
        await request.state.threads.call(
            lambda: approve(engine, number, by=visitor.name, single_person=single, sha256=sha256, client_id=CONSOLE)
        )
    except PolicyAdminError as error:
        context = {**version.context(visitor), **_matrix_context(request, version, {}), "error": str(error)}
        return render(request, "policies/version.html", context, status=422)
    return go_to(request, f"/policies/{number}")


def _form(visitor: Visitor) -> _FormText:
    assert visitor.form is not None  # the guard reads every POST's form
    return _FormText(visitor.form)


class _FormText:
    """A POST's fields as text, each cut to a length no real value reaches."""

    def __init__(self, form: Any) -> None:
        self._form = form

    def get(self, name: str, default: object = "") -> str:
        value = self._form.get(name, default)
        return str(value)[:_TEXT_LIMIT] if isinstance(value, str) else str(default)

    def getlist(self, name: str) -> list[str]:
        return [str(value)[:100] for value in self._form.getlist(name) if isinstance(value, str)]


def _same(first: str, second: str) -> bool:
    return first.strip().casefold() == second.strip().casefold()
