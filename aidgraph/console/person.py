"""What the pages showing personal data share: the purpose the person chooses, their region, the graph.

The purpose is never assumed: a page showing personal data shows nothing until the person picks one
of the purposes their roles are granted (it travels in the address, so a link or a reload keeps it),
and each view is then audited under that purpose, as a client system's request is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response

from aidgraph.console.graph import Answer, ask
from aidgraph.console.guard import Visitor, refusal
from aidgraph.graphql_http import GraphQLEndpoint
from auth.people.principal import person_principal
from auth.policy_store import PolicyCache
from auth.principal import Principal


@dataclass(frozen=True)
class Purpose:
    """The purposes a person may choose on a page, and the one chosen (empty: none yet)."""

    choices: tuple[str, ...]
    value: str = ""

    @property
    def chosen(self) -> bool:
        return self.value in self.choices

    @classmethod
    def chosen_in(cls, asked: str, choices: Sequence[str]) -> Purpose:
        return cls(tuple(choices), asked if asked in choices else "")


@dataclass(frozen=True)
class Change:
    """A change's answer: the changed object (None: refused, `answer.errors` say why) and the form's status."""

    purpose: Purpose
    answer: Answer
    changed: dict[str, Any] | None
    status: int


class PersonPages:
    """A group of pages that ask the graph as the signed-in person."""

    PURPOSES: ClassVar[tuple[str, ...] | None] = None  # the purposes these pages serve (None: any)

    def __init__(self, endpoint: GraphQLEndpoint) -> None:
        self._endpoint = endpoint

    def principal_of(self, request: Request, visitor: Visitor) -> Principal:
        policies: PolicyCache = request.state.policies
        return person_principal(request.state.engine, visitor.session.user, policies.current())

    def purposes_of(self, request: Request, visitor: Visitor) -> tuple[str, ...]:
        granted = self.principal_of(request, visitor).purposes
        wanted = self.PURPOSES if self.PURPOSES is not None else tuple(sorted(granted))
        return tuple(purpose for purpose in wanted if purpose in granted)

    def purpose_of(self, request: Request, visitor: Visitor) -> Purpose:
        return Purpose.chosen_in(request.query_params.get("purpose", ""), self.purposes_of(request, visitor))

    @staticmethod
    def region_of(request: Request, visitor: Visitor) -> str | None:
        """The region asked for, if it is one of the person's; else their first (None: they have none)."""
        asked = request.query_params.get("region")
        if asked in visitor.regions:
            return asked
        return visitor.regions[0] if visitor.regions else None

    async def ask(
        self, request: Request, visitor: Visitor, purpose: Purpose, query: str, variables: dict[str, Any]
    ) -> Answer:
        principal = self.principal_of(request, visitor)
        return await ask(
            self._endpoint,
            request,
            principal,
            actor=visitor.name,
            purpose=purpose.value,
            query=query,
            variables=variables,
        )

    async def change(
        self, request: Request, visitor: Visitor, document: str, variables: dict[str, Any], field: str
    ) -> Change | Response:
        """A change asked of the graph from a posted form: its purpose the form's (one the person may
        choose), the answer's changed object, or why it was refused with the status a form answers it by
        (409 for a conflict, 422 otherwise), or the page that ends the request."""
        assert visitor.form is not None
        purpose = Purpose.chosen_in(str(visitor.form.get("purpose", "")), self.purposes_of(request, visitor))
        if not purpose.chosen:
            return refusal(request, 403, "forbidden")
        answer = await self.ask(request, visitor, purpose, document, variables)
        if (failed := self.failed(request, answer)) is not None:
            return failed
        changed = (answer.data or {}).get(field)
        status = 200 if changed is not None else 409 if "CONFLICT" in answer.codes else 422
        return Change(purpose, answer, changed, status)

    @staticmethod
    def failed(request: Request, answer: Answer) -> Response | None:
        """The page that replaces the answer when the endpoint refused the request as a whole."""
        if answer.unavailable:
            return refusal(request, 503, "unavailable")
        if answer.status != 200:
            return refusal(request, 403, "forbidden")
        return None


def form_text(value: object) -> str | None:
    """A form's text field as the API takes it: stripped, and None when left empty."""
    return value.strip() or None if isinstance(value, str) else None


def form_integer(value: object) -> int:
    """A version sent back by a form; one that is not a number is never current, so the change is refused."""
    try:
        return int(str(value))
    except ValueError:
        return -1
