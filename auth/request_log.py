"""What a log line may say about a request: its id, its operation's name, and why it failed, by type.

The log is kept longer, read by more people and copied further than the audit trail, and it is not
governed by the policy: so it carries no query text, no variables, no resident id, no statement or
its parameters. A line names the request (the id its client was given), the operation, and, for a
failure, the exception's type and where it was raised; an exception's message is not logged, since
graphql-core quotes the document in it and a database quotes the values it was given.
"""

from __future__ import annotations

import secrets
import traceback

from graphql import GraphQLError, OperationDefinitionNode, get_operation_ast, parse

from auth.audit.event import document_digest

_NAME_SHOWN = 100  # characters of an operation name; a GraphQL name cannot hold more than letters, digits, _


def new_request_id() -> str:
    return secrets.token_hex(8)


class RequestLog:
    """The fields every log line about one request starts with (`str()` of it).

    Holds the request's document only to name its operation, and only when a line is written:
    parsing again costs nothing on the paths that log (a failure), and nothing on those that do not.
    """

    __slots__ = ("_document_key", "_operation_name", "_query", "request_id")

    def __init__(
        self,
        *,
        request_id: str,
        query: str | None = None,
        operation_name: str | None = None,
        document_key: bytes | None = None,
    ) -> None:
        self.request_id = request_id
        self._query = query
        self._operation_name = operation_name
        self._document_key = document_key

    def fields(self) -> dict[str, str]:
        """The one place a request's log fields are built. The keyed document hash of the audit trail
        (HMAC with the hub's document key, handed to the constructor) is `document`, so that a log
        line and an audit event of the same document can be matched, neither holding its text."""
        fields = {"request": self.request_id}
        operation = self.operation()
        if operation is not None:
            fields["operation"] = operation
        if self._query is not None and self._document_key is not None:
            fields["document"] = document_digest(self._document_key, self._query)
        return fields

    def operation(self) -> str | None:
        """The name of the operation the document runs, as its document spells it; None if it has none."""
        if self._query is None:
            return None
        try:
            document = parse(self._query, no_location=True)
        except GraphQLError:
            return None
        found = get_operation_ast(document, self._operation_name)
        if not isinstance(found, OperationDefinitionNode) or found.name is None:
            return None
        return found.name.value[:_NAME_SHOWN]

    def __str__(self) -> str:
        return " ".join(f"{name}={value}" for name, value in self.fields().items())

    __repr__ = __str__


def describe_exception(error: BaseException) -> str:
    """The exception's type and traceback, and its causes', without any exception's message."""
    parts = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_list(traceback.extract_tb(current.__traceback__)))
        kind = type(current)
        parts.append(f"Traceback (most recent call last):\n{frames}{kind.__module__}.{kind.__qualname__}")
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "\n\nwhich was raised while handling\n\n".join(parts)
