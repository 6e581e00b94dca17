"""`GET /students/export`: the whole term's eligible students for the student-aid system, streamed.

Behind the same gate as /graphql (token, purpose `student-aid`, the policy, regions); rows are
encoded as they are read and every page is audited before it is sent (resolvers.students.export).
"""

from __future__ import annotations

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from aidgraph.graphql_http import Gate
from resolvers.students.export import encode, export_rows
from resolvers.students.export_request import ExportRequestError, export_request

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}


def _refuse(message: str, code: str = "BAD_USER_INPUT", status: int = 400) -> Response:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status)


class StudentExport:
    def __init__(self, gate: Gate) -> None:
        self._gate = gate

    async def handle(self, request: Request) -> Response:
        access = await self._gate.admit(request, None)
        if isinstance(access, Response):
            return access
        problem = access.enter("eligibleStudents")  # the export is that list, whole: governed alike
        if problem is not None:
            return _refuse(f"the export: {problem}", "FORBIDDEN", 403)
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
        engine: sa.Engine = request.state.engine
        rows = export_rows(
            engine, access, term=asked.term, region=asked.region, stage=asked.stage, operation="students export"
        )
        return StreamingResponse(
            encode(rows, asked.format),  # a plain iterator: Starlette runs it in a thread, page by page
            media_type=MEDIA_TYPES[asked.format],
            headers={"Content-Disposition": f'attachment; filename="{asked.filename}"', "Cache-Control": "no-store"},
        )
