"""The whole term's eligible students as CSV or NDJSON, in constant memory, as the policy allows.

Rows come from `resolvers.students.eligibility.iter_eligible` (one statement, read in batches, the
students' names with them); each row is the one presenter's (`presented.StudentPresenter`, its policy
rules picked once for the whole export, whose access does not change); and every page is an audit
event naming its students, so an export of any size is read and recorded in bounded memory.
The HTTP endpoint (`aidgraph/students_http.py`) and `aidgraph students export` both call it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from auth.access import Access
from auth.audit import AuditLog, Caller, audit_event, document_hash
from auth.csv_cells import csv_row
from auth.disclosure import Selected, disclose
from resolvers.students import eligibility as students
from resolvers.students.presented import StudentPresenter

FORMATS = ("csv", "ndjson")
PAGE = 2000
# The governed fields an export reads, for its audit events (what was revealed, masked, withheld).
_READ = tuple(
    Selected(f"export.{field}", type_name, field)
    for type_name, fields in (
        ("Person", ("idNumber", "name")),
        ("EligibleStudent", ("stage", "schoolName", "schoolCode", "grade", "reasons", "aidGranted")),
        ("EligibilityReason", ("code", "department", "table", "sourceRecord")),
    )
    for field in fields
)
COLUMNS = (
    "id_number", "name", "stage", "school_code", "school_name", "grade",
    "reasons", "departments", "source_records", "aid_granted",
)  # fmt: skip


def export_rows(
    engine: sa.Engine,
    access: Access,
    *,
    term: str,
    region: str,
    stage: str | None = None,
    operation: str,
    actor: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Every eligible student of the term inside the caller's regions, one dict per student.

    `actor` names the person who runs the export (a command's `--by`); None for a client system.
    """
    regions = access.visible(region)
    log, caller = AuditLog(engine), Caller.of(access)
    # What was asked, as the export's document: the same request gives the same keyed hash.
    document = document_hash(engine, f"students export\nterm={term}\nregion={region}\nstage={stage or ''}")

    def audit_page(page: Sequence[students.EligibleStudent]) -> None:
        log.append(
            audit_event(
                "export",
                caller=caller,
                actor=actor,
                operation=operation,
                document_hash=document,
                subjects=[entry.id_number for entry in page],
                disclosure=disclose(access, _READ),
                detail=f"term {term}, {len(page)} students",
            )
        )

    # The access is the same for every row: the policy's rules for the exported fields are picked once.
    presenter = StudentPresenter(access, person_fields=("name",))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        page: list[students.EligibleStudent] = []
        for entry in students.iter_eligible(connection, term=term, regions=regions, stage=stage, batch=PAGE):
            page.append(entry)
            if len(page) == PAGE:
                yield from _page_rows(audit_page, presenter, page)
                page = []
        if page:
            yield from _page_rows(audit_page, presenter, page)


def _page_rows(
    audit_page: Callable[[Sequence[students.EligibleStudent]], None],
    presenter: StudentPresenter,
    page: Sequence[students.EligibleStudent],
) -> Iterator[dict[str, Any]]:
    rows = []
    for entry in page:
        rows.append(export_row(presenter.person(entry.id_number, name=entry.name), presenter.student(entry)))
    audit_page(page)  # before the page leaves: no unaudited reads
    yield from rows


def export_row(person: Mapping[str, Any], student: Mapping[str, Any]) -> dict[str, Any]:
    """One export row from a student and their person as the policy presented them."""
    reasons = student["reasons"] or []
    return {
        "id_number": person["id_number"],
        "name": person["name"],
        "stage": student["stage"],
        "school_code": student["school_code"],
        "school_name": student["school_name"],
        "grade": student["grade"],
        "reasons": [reason["code"] for reason in reasons],
        "departments": [reason["department"] for reason in reasons],
        "source_records": [reason["source_record"] for reason in reasons],
        "aid_granted": student["aid_granted"],
    }


BOM = "\ufeff"
CHUNK = 64 * 1024  # characters (NDJSON: bytes) gathered before they are sent


def encode(rows: Iterator[dict[str, Any]], format_name: str) -> Iterator[bytes]:
    """The rows as CSV (a header, lists joined by ';') or as NDJSON, in chunks of about CHUNK characters.

    The CSV is UTF-8 with a byte-order mark, the one sign by which a spreadsheet knows UTF-8 from the
    local code page (it garbles the Chinese names otherwise); NDJSON is read by programs, which a BOM
    would only trip. Its cells are made by `auth.csv_cells`, so none can start a formula.
    """
    if format_name == "ndjson":
        # Gathered as the CSV is: a chunk per row would cost a thread hop and an ASGI send each.
        lines: list[bytes] = []
        size = 0
        for row in rows:
            line = orjson.dumps(row) + b"\n"
            lines.append(line)
            size += len(line)
            if size > CHUNK:
                yield b"".join(lines)
                lines, size = [], 0
        if lines:
            yield b"".join(lines)
        return
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_row(COLUMNS))
    for row in rows:
        writer.writerow(csv_row(row.values()))
        if buffer.tell() > CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
