"""The ledger as a spreadsheet from the console: every item of a run as the caseworker may see it.

The items are read through the graph page by page, as the person and for their purpose (each page one
audit event, like any page they open), then written by the comparison's own ledger writer: one sheet
per rule, every cell formula-safe. What the policy withholds from them stays an empty cell.
"""

from __future__ import annotations

import io
from typing import Any, Final

from starlette.responses import Response

from aidgraph.console.graph import Answer
from casework.comparison.ledger import write

PAGE: Final = 100  # the graph's largest page

ITEMS: Final = """
query ConsoleLedgerFile($id: ID!, $after: String, $first: Int) {
  comparisonRun(id: $id) {
    id
    items(first: $first, after: $after) {
      edges { node {
        id rule programme status reasonCode note assignee coveredBy coveredOn
        evidence { department table recordKey values }
        person { idNumber }
        household { householdNumber regionCode }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def variables(run_id: str, after: str | None) -> dict[str, Any]:
    return {"id": run_id, "after": after, "first": PAGE}


def ledger_row(item: dict[str, Any]) -> dict[str, Any]:
    """An item as the graph presented it, in the ledger writer's columns."""
    household = item.get("household") or {}
    person = item.get("person") or {}
    return {
        "id": item.get("id"),
        "rule": item.get("rule"),
        "programme": item.get("programme"),
        "subject": "person" if person else "household",
        "household_number": household.get("householdNumber"),
        "id_number": person.get("idNumber"),
        "region_code": household.get("regionCode"),
        "status": item.get("status"),
        "reason_code": item.get("reasonCode"),
        "note": item.get("note"),
        "assignee": item.get("assignee"),
        "covered_by": item.get("coveredBy"),
        "covered_on": item.get("coveredOn"),
        "first_run": None,
        "last_run": None,
        "evidence": [
            {"table": one.get("table"), "recordKey": one.get("recordKey"), "values": one.get("values") or {}}
            for one in item.get("evidence") or []
        ],
    }


def spreadsheet(rows: list[dict[str, Any]], run_id: str) -> Response:
    out = io.BytesIO()
    write(rows, format_name="xlsx", out=out)
    disposition = f'attachment; filename="ledger-run-{int(run_id)}.xlsx"'
    return Response(out.getvalue(), media_type=XLSX, headers={"Content-Disposition": disposition})


def items_of(answer: Answer) -> tuple[list[dict[str, Any]], str | None] | None:
    """One page's items and the cursor after it (None when there is no further page); None: no such run."""
    run = (answer.data or {}).get("comparisonRun")
    if run is None:
        return None
    connection = run["items"]
    after = connection["pageInfo"]["endCursor"] if connection["pageInfo"]["hasNextPage"] else None
    return [edge["node"] for edge in connection["edges"]], after
