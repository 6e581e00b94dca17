"""`GET /students/export`: the whole term's eligible students for the student-aid system, streamed.

Behind the same gate as /graphql (token, purpose `student-aid`, the policy, regions, the client's
rate); rows are encoded as they are read and every page is audited before it is sent
(resolvers.students.export). The first page is read and audited before any header is sent, so a
trail that cannot be written is a 503, not a 200 cut off after its headers. The stream reads from
an engine of its own, without the statement_timeout of the request engine: an export of a province
rightly takes long, and its pool (aidgraph.app) bounds how many run at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from aidgraph.admission import InFlight, overloaded, store_failure, store_failure_response
from aidgraph.graphql_gate import Gate
from aidgraph.settings import DEFAULT_MAX_IN_FLIGHT
from auth.audit import AuditUnavailable
from auth.gate import audit_unavailable
from auth.request_log import request_log_of
from resolvers.students.export import encode, export_rows
from resolvers.students.export_request import ExportRequestError, export_request

OPERATION = "students export"  # as the trail names the HTTP export's events
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}


def _refuse(message: str, code: str = "BAD_USER_INPUT", status: int = 400) -> Response:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status)


class StudentExport:
    def __init__(self, gate: Gate, *, in_flight: InFlight | None = None) -> None:
        self._gate = gate
        self._in_flight = in_flight or InFlight(DEFAULT_MAX_IN_FLIGHT)

    async def handle(self, request: Request) -> Response:
        with self._in_flight.slot() as admitted:
            if not admitted:
                return overloaded()
            try:
                return await self._answer(request)
            except Exception as error:
                failure = store_failure(error)
                if failure is None:
                    raise
                return store_failure_response(failure, error, request=request_log_of(request))

    async def _answer(self, request: Request) -> Response:
        identified = await self._gate.identify(request)
        if isinstance(identified, Response):
            return identified
        access = await self._gate.admit(request, identified, None)
        if isinstance(access, Response):
            return access
        problem = access.enter("eligibleStudents")  # the export is that list, whole: governed alike
        if problem is not None:
            return await self._gate.refuse(
                request, access, operation=OPERATION, code="FORBIDDEN", message=f"the export: {problem}"
            )
        query = request.query_params
        try:  # the command's defaults and messages: one home (resolvers.students.export_request)
            asked = export_request(
                region=query.get("region"),
                term=query.get("term"),
                format_name=query.get("format"),
                stage=query.get("stage"),
            )
        except ExportRequestError as error:
            return _refuse(str(error))
        engine: sa.Engine = request.state.export_engine
        rows = export_rows(engine, access, term=asked.term, region=asked.region, stage=asked.stage, operation=OPERATION)
        chunks = encode(rows, asked.format)
        try:
            first = await run_in_threadpool(next, chunks, None)  # the first page, read and audited
        except AuditUnavailable:
            return audit_unavailable()
        rest: Iterator[bytes] = itertools.chain([first], chunks) if first is not None else iter(())
        return StreamingResponse(
            rest,  # a plain iterator: Starlette runs it in a thread, page by page
            media_type=MEDIA_TYPES[asked.format],
            headers={"Content-Disposition": f'attachment; filename="{asked.filename}"', "Cache-Control": "no-store"},
        )
