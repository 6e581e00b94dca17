"""A file of GraphQL operations as registered documents: one document per named operation, its id, its checks.

Each operation of a file becomes a document of its own: the operation and the fragments it spreads
(recursively), printed by graphql's printer, and named by `sha256:` and the hex SHA-256 of that text's
UTF-8. That is the GraphQL over HTTP persisted-documents appendix's "persisted operation" and what
Apollo's persisted queries hash (a client prints each operation with its fragments and hashes the
print): one id stands for exactly one operation, so a request by id never needs `operationName`,
the audit trail and the log name one operation per id, and removing one operation leaves the file's
others registered. A whole file as one document would make its id change whenever any of its
operations did, and a request by that id run whichever operation it named.

The printed form also makes the id independent of the file's layout and comments: the same operation
registered from a reformatted file has the same id. Anonymous operations are refused: an operation
is known by its name in the trail, the log and the list.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from graphql import (
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    Source,
    parse,
    print_ast,
    separate_operations,
)

from schema import HubSchema

DOCUMENT_ID_PREFIX = "sha256:"
DOCUMENT_ID = re.compile(r"sha256:[0-9a-f]{64}")
MAX_NAME = 100  # characters of an operation name, as the table keeps it


class DocumentError(ValueError):
    """A file that cannot be registered: every problem found, each naming the operation and the place."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Document:
    """One registered operation's document: its id, its operation, and the text the id is the hash of."""

    document_id: str
    operation_name: str
    operation_type: str  # "query" or "mutation"
    text: str


def document_id(text: str) -> str:
    """`sha256:` and the hex SHA-256 of the text's UTF-8: what a client sends as `documentId`."""
    return DOCUMENT_ID_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


def documents_of(schema: HubSchema, text: str, *, source: str = "operations") -> list[Document]:
    """The file's operations as documents, each checked as a request sending it would be.

    Raises DocumentError naming every problem (`source:line:column: operation Name: ...`): nothing
    of a file is registered unless all of it can be."""
    try:
        parsed = parse(Source(text, source))
    except GraphQLSyntaxError as error:
        raise DocumentError([_placed(source, error, None)]) from None
    operations = [node for node in parsed.definitions if isinstance(node, OperationDefinitionNode)]
    problems: list[str] = []
    if not operations:
        problems.append(f"{source}: holds no operation to register")
    names: dict[str, int] = {}
    for operation in operations:
        if operation.name is None:
            problems.append(
                f"{_place(source, operation)}: an anonymous {operation.operation.value}: name it "
                "(a registered operation is known by its name in the audit trail, the log and the list)"
            )
            continue
        name = operation.name.value
        names[name] = names.get(name, 0) + 1
        if len(name) > MAX_NAME:
            problems.append(f"{_place(source, operation)}: operation {name[:40]}...: names are kept to {MAX_NAME}")
    repeated = [(name, count) for name, count in names.items() if count > 1]
    problems.extend(f"{source}: operation {name} is defined {count} times" for name, count in repeated)
    if problems:
        raise DocumentError(problems)
    documents = []
    for name, separated in separate_operations(parsed).items():
        # Checked on the file's own nodes, so each error's place is a line and column of the file.
        problems.extend(_placed(source, error, name) for error in schema.document_errors(separated))
        printed = print_ast(separated)
        kind = next(d for d in separated.definitions if isinstance(d, OperationDefinitionNode)).operation.value
        documents.append(Document(document_id(printed), name, kind, printed))
    if problems:
        raise DocumentError(problems)
    return documents


def problems_of(schema: HubSchema, document: Document) -> list[str]:
    """Why a registered document would no longer be served by this schema; empty when it would be."""
    try:
        parsed = parse(document.text)
    except GraphQLSyntaxError as error:
        return [_placed(document.document_id, error, document.operation_name)]
    errors = schema.document_errors(parsed)
    return [_placed(document.document_id, error, document.operation_name) for error in errors]


def _place(source: str, node: OperationDefinitionNode) -> str:
    if node.loc is None:
        return source
    location = node.loc.source.get_location(node.loc.start)
    return f"{source}:{location.line}:{location.column}"


def _placed(source: str, error: GraphQLError, operation_name: str | None) -> str:
    where = source
    if error.locations:
        first = error.locations[0]
        where = f"{source}:{first.line}:{first.column}"
    subject = f" operation {operation_name}:" if operation_name else ""
    return f"{where}:{subject} {error.message}"
