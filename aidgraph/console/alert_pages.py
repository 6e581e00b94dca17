"""The alerts queue of early warning: overdue alerts first, then the rest, each with its deadline, and the
change of an alert's status; as the signed-in person, for the purpose they chose (aidgraph/console/graph.py).
"""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aidgraph.console.guard import Visitor, page, refusal
from aidgraph.console.pages import render
from aidgraph.console.person import PersonPages, Purpose, form_integer, form_text
from casework.lifecycle import ALERT_REASONS, ALERT_STATUSES, next_alert_statuses
from casework.warnings.rules import KINDS

_ALERT_FIELDS: Final = """
fragment AlertFields on Alert {
  id kind status level emergency raisedAt dueAt overdue reasonCode note version
  evidence { department table recordKey values }
  history { at actor from to reasonCode note }
  household { householdNumber regionCode address }
}"""

QUEUE: Final = (
    """
query ConsoleAlerts($region: String!, $status: String, $kind: String, $after: String) {
  overdue: alerts(region: $region, status: $status, kind: $kind, overdue: true, first: 50) {
    edges { node { ...AlertFields } }
  }
  waiting: alerts(region: $region, status: $status, kind: $kind, overdue: false, first: 50, after: $after) {
    edges { node { ...AlertFields } }
    pageInfo { hasNextPage endCursor }
  }
}"""
    + _ALERT_FIELDS
)

CHANGE: Final = (
    """
mutation ConsoleChangeAlert($id: ID!, $status: String!, $version: Int!, $reasonCode: String, $note: String) {
  updateAlert(id: $id, status: $status, version: $version, reasonCode: $reasonCode, note: $note) { ...AlertFields }
}"""
    + _ALERT_FIELDS
)


class AlertPages(PersonPages):
    PURPOSES = ("case-management",)

    def routes(self) -> list[Route]:
        return [
            Route("/alerts", self.queue, methods=["GET"]),
            Route("/alerts/{alert_id}", self.change, methods=["POST"]),
        ]

    @property
    def queue(self) -> Any:
        @page(needs=("any-role",))
        async def queue(request: Request, visitor: Visitor) -> Response:
            purpose = self.purpose_of(request, visitor)
            region = self.region_of(request, visitor)
            status = request.query_params.get("status") or None
            kind = request.query_params.get("kind") or None
            context: dict[str, Any] = {
                "purpose": purpose,
                "region": region,
                "status": status,
                "kind": kind,
                "statuses": ALERT_STATUSES,
                "kinds": KINDS,
                "overdue": None,
                "waiting": None,
                "errors": [],
                "fragment": "queue",
                **_choices(),
            }
            if purpose.chosen and region is not None:
                variables = {
                    "region": region,
                    "status": status,
                    "kind": kind,
                    "after": request.query_params.get("after") or None,
                }
                answer = await self.ask(request, visitor, purpose, QUEUE, variables)
                if (failed := self.failed(request, answer)) is not None:
                    return failed
                data = answer.data or {}
                context["overdue"] = [edge["node"] for edge in (data.get("overdue") or {"edges": []})["edges"]]
                context["waiting"] = data.get("waiting") or {"edges": [], "pageInfo": {"hasNextPage": False}}
                context["errors"] = answer.errors
            return render(request, "alerts/queue.html", context)

        return queue

    @property
    def change(self) -> Any:
        @page(needs=("any-role",))
        async def change(request: Request, visitor: Visitor) -> Response:
            form = visitor.form
            assert form is not None
            purpose = Purpose.chosen_in(str(form.get("purpose", "")), self.purposes_of(request, visitor))
            if not purpose.chosen:
                return refusal(request, 403, "forbidden")
            variables = {
                "id": request.path_params["alert_id"],
                "status": str(form.get("status", "")),
                "version": form_integer(form.get("version")),
                "reasonCode": form_text(form.get("reasonCode")),
                "note": form_text(form.get("note")),
            }
            answer = await self.ask(request, visitor, purpose, CHANGE, variables)
            if (failed := self.failed(request, answer)) is not None:
                return failed
            alert = (answer.data or {}).get("updateAlert")
            if alert is None:
                context = {"errors": answer.errors, "current": answer.current, "alert_id": variables["id"]}
                status = 409 if "CONFLICT" in answer.codes else 422
                return render(request, "alerts/change_refused.html", context, status=status)
            context = {"purpose": purpose, "alert": alert, "changed": True, **_choices()}
            return render(request, "alerts/alert.html", context)

        return change


def _choices() -> dict[str, Any]:
    return {"next_statuses": next_alert_statuses, "reasons": ALERT_REASONS}
