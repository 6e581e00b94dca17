"""`GET /students/export`: the whole term's eligible students for the student-aid system, streamed.

Behind the same gate as /graphql (token, purpose `student-aid`, the policy, regions); rows are
encoded as they are read and every page is audited before it is sent (resolvers.students.export).
"""

from __future__ import annotations

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from aidgraph.graphql_http import Gate
from resolvers.rules.regions import Region
from resolvers.rules.terms import term_start
from resolvers.students.export import FORMATS, encode, export_rows

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
STAGES = (
    "PRESCHOOL", "PRIMARY", "JUNIOR_SECONDARY", "SENIOR_SECONDARY", "SECONDARY_VOCATIONAL",
    "HIGHER_VOCATIONAL", "UNDERGRADUATE", "POSTGRADUATE",
)  # fmt: skip


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
        term, region = query.get("term", ""), query.get("region", "")
        format_name, stage = query.get("format", "ndjson"), query.get("stage")
        try:
            term_start(term)
        except ValueError as error:
            return _refuse(f"term: {error}")
        try:
            prefix = Region.parse(region).prefix
        except ValueError as error:
            return _refuse(f"region: {error}")
        if format_name not in FORMATS:
            return _refuse(f"format: {format_name!r} is not one of {', '.join(FORMATS)}")
        if stage is not None and stage not in STAGES:
            return _refuse(f"stage: {stage!r} is not one of {', '.join(STAGES)}")
        engine: sa.Engine = request.state.engine
        rows = export_rows(engine, access, term=term, region=prefix, stage=stage, operation="students export")
        filename = f"eligible-students-{region}-{term}.{format_name}"
        return StreamingResponse(
            encode(rows, format_name),  # a plain iterator: Starlette runs it in a thread, page by page
            media_type=MEDIA_TYPES[format_name],
            headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
        )
