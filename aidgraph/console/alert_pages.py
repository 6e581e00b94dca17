"""The alerts queue of early warning: overdue alerts first, then the rest, each with its deadline, and the
change of an alert's status; as the signed-in person, for the purpose they chose (aidgraph/console/graph.py).
"""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aidgraph.console.guard import Visitor, page
from aidgraph.console.pages import render
from aidgraph.console.person import PersonPages, form_integer, form_text
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
            Route("/alerts/{alert_id}", self.change_alert, methods=["POST"]),
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
    def change_alert(self) -> Any:
        @page(needs=("any-role",))
        async def change(request: Request, visitor: Visitor) -> Response:
            assert visitor.form is not None
            form = visitor.form
            variables = {
                "id": request.path_params["alert_id"],
                "status": str(form.get("status", "")),
                "version": form_integer(form.get("version")),
                "reasonCode": form_text(form.get("reasonCode")),
                "note": form_text(form.get("note")),
            }
            done = await self.change(request, visitor, CHANGE, variables, "updateAlert")
            if isinstance(done, Response):
                return done
            if done.changed is None:
                context = {"errors": done.answer.errors, "current": done.answer.current, "alert_id": variables["id"]}
                return render(request, "alerts/change_refused.html", context, status=done.status)
            context = {"purpose": done.purpose, "alert": done.changed, "changed": True, **_choices()}
            return render(request, "alerts/alert.html", context)

        return change


def _choices() -> dict[str, Any]:
    return {"next_statuses": next_alert_statuses, "reasons": ALERT_REASONS}
