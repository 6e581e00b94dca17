"""The auditor's pages: the trail searched, its chain verified with an anchor, and a person's access log.

For people holding the policy role `auditor`. A search and a check are the audit services' own
(auth/audit/reading.py), which write the event naming the auditor; a person's access log is asked of
the graph as the auditor, for the purpose `audit`, so the same policy and audit as the API's apply.

A resident id reaches the hub only in a POST's body: never in an address (which browsers, proxies and
logs keep), and the page shows it again only in the field the auditor typed it into.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aidgraph.console.guard import AUDITOR_ROLE, Visitor, page, refusal
from aidgraph.console.pages import render
from aidgraph.console.person import PersonPages, Purpose
from auth.audit import AuditUnavailable, SearchError, distinct_values
from auth.audit.reading import search_as, verify_as
from auth.audit.verifier import parse_anchor
from auth.people.users import CONSOLE_CALLER

PAGE_SIZE: Final = 50
AUDIT_PURPOSE: Final = "audit"
# A time typed without a zone is the hub's local time, China Standard Time.
LOCAL_TIME: Final = timezone(timedelta(hours=8))
FILTERS: Final = ("client", "purpose", "outcome", "operation", "since", "until")

ACCESS_LOG: Final = """
query ConsoleAccessLog($idNumber: String!, $after: String) {
  accessLog(idNumber: $idNumber, first: 50, after: $after) {
    edges { cursor node { at clientId roles purpose caseId operation outcome revealed masked withheld } }
    hasNextPage
  }
}"""


class AuditPages(PersonPages):
    PURPOSES = (AUDIT_PURPOSE,)

    def routes(self) -> list[Route]:
        return [
            Route("/audit", self.search_page, methods=["GET"]),
            Route("/audit/search", self.search, methods=["POST"]),
            Route("/audit/verify", self.verify, methods=["POST"]),
            Route("/audit/access-log", self.access_log_page, methods=["GET"]),
            Route("/audit/access-log", self.access_log, methods=["POST"]),
        ]

    @staticmethod
    async def _search_page(
        request: Request, *, status: int = 200, fragment: str | None = None, **context: Any
    ) -> Response:
        engine = request.state.engine
        choices = await request.state.threads.call(lambda: distinct_values(engine))
        values: dict[str, Any] = {
            "choices": choices,
            "asked": {name: "" for name in FILTERS},
            "resident": "",
            "found": None,
            "error": None,
            "report": None,
            "anchor": "",
            "verify_error": None,
            "fragment": fragment,
            "local_time": _local_time,
            **context,
        }
        return render(request, "audit/search.html", values, status=status)

    @property
    def search_page(self) -> Any:
        @page(needs=(AUDITOR_ROLE,))
        async def search_page(request: Request, visitor: Visitor) -> Response:
            return await self._search_page(request)

        return search_page

    @property
    def search(self) -> Any:
        @page(needs=(AUDITOR_ROLE,))
        async def search(request: Request, visitor: Visitor) -> Response:
            assert visitor.form is not None
            asked = {name: str(visitor.form.get(name, "")).strip() for name in FILTERS}
            resident = str(visitor.form.get("resident", "")).strip()
            shown: dict[str, Any] = {"asked": asked, "resident": resident, "fragment": "results"}
            try:
                since, until = _moment(asked["since"], "since"), _moment(asked["until"], "until")
                before = _before(visitor.form.get("before"))
            except SearchError as error:
                return await self._search_page(request, status=422, error=str(error), **shown)
            engine = request.state.engine

            def run() -> Any:
                return search_as(
                    engine,
                    by=visitor.name,
                    caller=CONSOLE_CALLER,
                    client_id=asked["client"],
                    purpose=asked["purpose"],
                    outcome=asked["outcome"],
                    operation=asked["operation"],
                    since=since,
                    until=until,
                    resident_id=resident,
                    first=PAGE_SIZE,
                    before_seq=before,
                )

            try:
                found = await request.state.threads.call(run)
            except SearchError as error:
                return await self._search_page(request, status=422, error=str(error), **shown)
            except AuditUnavailable:
                return refusal(request, 503, "unavailable")
            return await self._search_page(request, found=found, **shown)

        return search

    @property
    def verify(self) -> Any:
        @page(needs=(AUDITOR_ROLE,))
        async def verify(request: Request, visitor: Visitor) -> Response:
            assert visitor.form is not None
            text = str(visitor.form.get("anchor", "")).strip()
            shown: dict[str, Any] = {"anchor": text, "fragment": "verified"}
            try:
                anchor = parse_anchor(text) if text else None
            except ValueError as error:
                return await self._search_page(request, status=422, verify_error=str(error), **shown)
            engine = request.state.engine
            try:
                report = await request.state.threads.call(
                    lambda: verify_as(engine, by=visitor.name, caller=CONSOLE_CALLER, anchor=anchor)
                )
            except AuditUnavailable:
                return refusal(request, 503, "unavailable")
            return await self._search_page(request, report=report, **shown)

        return verify

    def _log_context(self, request: Request, visitor: Visitor, **context: Any) -> dict[str, Any]:
        return {
            "purpose": Purpose.chosen_in(AUDIT_PURPOSE, self.purposes_of(request, visitor)),
            "resident": "",
            "log": None,
            "codes": (),
            "fragment": "log",
            **context,
        }

    @property
    def access_log_page(self) -> Any:
        @page(needs=(AUDITOR_ROLE,))
        async def access_log_page(request: Request, visitor: Visitor) -> Response:
            return render(request, "audit/access_log.html", self._log_context(request, visitor))

        return access_log_page

    @property
    def access_log(self) -> Any:
        @page(needs=(AUDITOR_ROLE,))
        async def access_log(request: Request, visitor: Visitor) -> Response:
            assert visitor.form is not None
            resident = str(visitor.form.get("resident", "")).strip()
            purpose = Purpose.chosen_in(AUDIT_PURPOSE, self.purposes_of(request, visitor))
            if not purpose.chosen:  # the live policy grants the auditor's roles no audit purpose
                return refusal(request, 403, "forbidden")
            after = str(visitor.form.get("after", "")).strip() or None
            answer = await self.ask(request, visitor, purpose, ACCESS_LOG, {"idNumber": resident, "after": after})
            if (failed := self.failed(request, answer)) is not None:
                return failed
            log = (answer.data or {}).get("accessLog")
            # Only the codes of errors: an error's words may quote the id the auditor typed.
            context = self._log_context(request, visitor, resident=resident, log=log, codes=sorted(answer.codes))
            status = 200 if log is not None else 422
            return render(request, "audit/access_log.html", context, status=status)

        return access_log


def _moment(text: str, what: str) -> datetime | None:
    """A time from the form: ISO 8601 with its zone, or without one (a `datetime-local` field): local time."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SearchError(f"{what}: give a time such as 2026-11-24T09:00") from None
    return moment.replace(tzinfo=LOCAL_TIME) if moment.tzinfo is None else moment


def _local_time(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S")


def _before(value: object) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise SearchError("the page asked for is not a seq")
    return int(text)
