"""The caseworker's pages: comparison runs, a run's ledger with each item's evidence and history, and
the change of an item's status; downloads of the ledger as a spreadsheet.

Every value comes from the graph (aidgraph/console/graph.py) as the signed-in person, for the purpose
they chose on the page, inside their regions: what a county's caseworker cannot ask of the API, they
cannot see here either, and each page view is one audit event under their name.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aidgraph.console import ledger_download
from aidgraph.console.guard import Visitor, page, refusal
from aidgraph.console.pages import PREFIX, render
from aidgraph.console.person import PersonPages, Purpose, form_integer, form_text
from casework.comparison.rules import RULES
from casework.lifecycle import ITEM_REASONS, ITEM_STATUSES, next_item_statuses

PAGE_SIZE: Final = 50

RUNS: Final = """
query ConsoleRuns($region: String!, $after: String) {
  comparisonRuns(region: $region, first: 20, after: $after) {
    edges { node { id region term asOf counts } }
    pageInfo { hasNextPage endCursor }
  }
}"""

_ITEM_FIELDS: Final = """
fragment ItemFields on ComparisonItem {
  id rule programme status reasonCode note assignee coveredBy coveredOn version
  evidence { department table recordKey values }
  history { at actor from to reasonCode note }
  person { idNumber name }
  household {
    householdNumber regionCode address
    incomeAssessment {
      checkedOn annualIncome basicPension countedIncome medicalExpense educationExpense employmentCost
      employmentCap employmentDeduction employmentCapApplied deductions persons perCapitaMonthlyIncome
    }
  }
}"""

LEDGER: Final = (
    """
query ConsoleLedger($id: ID!, $rule: String, $status: String, $township: String, $after: String, $first: Int) {
  comparisonRun(id: $id) {
    id region term asOf inputs counts
    items(rule: $rule, status: $status, region: $township, first: $first, after: $after) {
      edges { node { ...ItemFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
    + _ITEM_FIELDS
)

CHANGE: Final = (
    """
mutation ConsoleChangeItem($id: ID!, $status: String!, $version: Int!, $reasonCode: String, $note: String,
                           $assignee: String, $programme: String, $coveredOn: Date) {
  updateComparisonItem(id: $id, status: $status, version: $version, reasonCode: $reasonCode, note: $note,
                       assignee: $assignee, programme: $programme, coveredOn: $coveredOn) { ...ItemFields }
}"""
    + _ITEM_FIELDS
)


class CaseworkPages(PersonPages):
    """The ledger pages; `PersonPages` gives the purpose choice and the graph."""

    PURPOSES = ("comparison", "case-management")

    def routes(self) -> list[Route]:
        return [
            Route("/casework", self.runs, methods=["GET"]),
            Route("/casework/runs/{run_id}", self.ledger, methods=["GET"]),
            Route("/casework/runs/{run_id:int}/ledger.xlsx", self.download, methods=["GET"]),
            Route("/casework/items/{item_id}", self.change_item, methods=["POST"]),
        ]

    @property
    def runs(self) -> Any:
        @page(needs=("any-role",))
        async def runs(request: Request, visitor: Visitor) -> Response:
            purpose = self.purpose_of(request, visitor)
            region = self.region_of(request, visitor)
            context: dict[str, Any] = {"purpose": purpose, "region": region, "runs": None, "rules": RULES}
            if purpose.chosen and region is not None:
                answer = await self.ask(request, visitor, purpose, RUNS, {"region": region})
                if (failed := self.failed(request, answer)) is not None:
                    return failed
                connection = (answer.data or {}).get("comparisonRuns") or {"edges": []}
                context["runs"] = [edge["node"] for edge in connection["edges"]]
                context["errors"] = answer.errors
            return render(request, "casework/runs.html", context)

        return runs

    @property
    def ledger(self) -> Any:
        @page(needs=("any-role",))
        async def ledger(request: Request, visitor: Visitor) -> Response:
            purpose = self.purpose_of(request, visitor)
            rule = request.query_params.get("rule") or None
            status = request.query_params.get("status") or None
            township = request.query_params.get("township", "").strip() or None
            context: dict[str, Any] = {
                "purpose": purpose,
                "run": None,
                "township": township,
                "rule": rule,
                "status": status,
                "rules": RULES,
                "statuses": ITEM_STATUSES,
                "fragment": "items",
                "run_id": request.path_params["run_id"],
                **self.item_choices(),
            }
            if purpose.chosen:
                variables = {
                    "id": request.path_params["run_id"],
                    "rule": rule,
                    "status": status,
                    "township": township,
                    "after": request.query_params.get("after") or None,
                    "first": PAGE_SIZE,
                }
                answer = await self.ask(request, visitor, purpose, LEDGER, variables)
                if (failed := self.failed(request, answer)) is not None:
                    return failed
                run = (answer.data or {}).get("comparisonRun")
                if run is None:
                    return refusal(request, 404, "not_found")
                context["run"] = run
                context["errors"] = answer.errors
            return render(request, "casework/ledger.html", context)

        return ledger

    @property
    def download(self) -> Any:
        @page(needs=("any-role",))
        async def download(request: Request, visitor: Visitor) -> Response:
            purpose = self.purpose_of(request, visitor)
            if not purpose.chosen:
                return refusal(request, 403, "forbidden")
            run_id = str(request.path_params["run_id"])
            rows: list[dict[str, Any]] = []
            after: str | None = None
            while True:
                answer = await self.ask(
                    request, visitor, purpose, ledger_download.ITEMS, {"id": run_id, "after": after}
                )
                if (failed := self.failed(request, answer)) is not None:
                    return failed
                page_items = ledger_download.items_of(answer)
                if page_items is None:
                    return refusal(request, 404, "not_found")
                items, after = page_items
                rows.extend(ledger_download.ledger_row(item) for item in items)
                if after is None:
                    return ledger_download.spreadsheet(rows, run_id)

        return download

    @property
    def change_item(self) -> Any:
        @page(needs=("any-role",))
        async def change(request: Request, visitor: Visitor) -> Response:
            assert visitor.form is not None
            form = visitor.form
            variables = {
                "id": request.path_params["item_id"],
                "status": str(form.get("status", "")),
                "version": form_integer(form.get("version")),
                "reasonCode": form_text(form.get("reasonCode")),
                "note": form_text(form.get("note")),
                "assignee": form_text(form.get("assignee")),
                "programme": form_text(form.get("programme")),
                "coveredOn": form_text(form.get("coveredOn")),
            }
            done = await self.change(request, visitor, CHANGE, variables, "updateComparisonItem")
            if isinstance(done, Response):
                return done
            if done.changed is None:
                # Refused (a conflict, a change the lifecycle does not allow): said in the item's place,
                # with the current version and status a conflict carries.
                context = {"errors": done.answer.errors, "current": done.answer.current, "item_id": variables["id"]}
                return _in_place(
                    request, "casework/change_refused.html", context, form, done.purpose, status=done.status
                )
            context = {"item": done.changed, "errors": [], "changed": True, **self.item_choices()}
            return _in_place(request, "casework/item.html", context, form, done.purpose)

        return change

    @staticmethod
    def item_choices() -> dict[str, Any]:
        return {"next_statuses": next_item_statuses, "reasons": ITEM_REASONS}


def _in_place(
    request: Request, template: str, context: dict[str, Any], form: Any, purpose: Purpose, *, status: int = 200
) -> Response:
    """The item's new state in its place (htmx), or, for a browser without script, a page with a way back."""
    run_id = str(form.get("run", ""))
    context = {**context, "purpose": purpose, "run_id": run_id}
    if request.headers.get("hx-request") == "true":
        return render(request, template, context, status=status)
    back = (
        f"{PREFIX}/casework/runs/{run_id}?purpose={quote(purpose.value)}" if run_id.isdigit() else f"{PREFIX}/casework"
    )
    return render(request, "casework/item_page.html", {**context, "inner": template, "back": back}, status=status)
