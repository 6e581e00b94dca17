"""Errors as they leave the hub: masked when unexpected, a failed department named with a request id,
and the log told the type, the place and the request, never an exception's message or the document."""

from __future__ import annotations

import logging

import pytest
import strawberry
from graphql import GraphQLError

import schema
from adapters.sources import SourceUnavailable
from auth.request_log import RequestLog
from resolvers.records import bad_input
from schema.errors import mask_unexpected_error, present_errors

SECRET = "350583195003101116"  # stands for any value an exception's text may quote
DOCUMENT = f'query Picture {{ person(idNumber: "{SECRET}") {{ name }} }}'


def _failed(department: str, field: str, failure: SourceUnavailable) -> GraphQLError:
    """A failed department's error as graphql-core locates it: the resolver's error, wrapped."""
    raised = GraphQLError(
        str(failure), extensions={"code": "SOURCE_UNAVAILABLE", "department": department}, original_error=failure
    )
    return GraphQLError(raised.message, path=["person", field], original_error=raised)


def test_an_unexpected_error_is_masked_and_logged_with_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    # given an error caused by an unexpected exception in a resolver, whose text quotes a value
    text = f"connection to server at 10.0.0.5 failed for {SECRET}"
    try:
        raise OSError(text)
    except OSError as raised:
        error = GraphQLError("connection to server at 10.0.0.5 failed", path=["household"], original_error=raised)
    # when masked
    with caplog.at_level(logging.DEBUG):
        masked = mask_unexpected_error(error, request=RequestLog(request_id="r-42", query=DOCUMENT))
    # then the client sees the request id only
    assert masked == {
        "message": "internal error (request r-42)",
        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "r-42"},
        "path": ["household"],
    }
    # and the log has the request, its operation, the exception's type and where it was raised, not its text
    [record] = caplog.records
    message = record.getMessage()
    assert message.startswith("request=r-42 operation=Picture: unexpected OSError")
    assert "builtins.OSError" in message and "test_errors.py" in message
    assert SECRET not in message and "10.0.0.5" not in message and record.exc_info is None


def test_deliberate_errors_pass_through_unmasked(caplog: pytest.LogCaptureFixture) -> None:
    # given an error a resolver raised on purpose, as graphql-core locates it, and a validation error
    deliberate = GraphQLError("first: 500 is outside 0-100", path=["households"], original_error=bad_input("x"))
    validation = GraphQLError("Cannot query field 'nmae' on type 'Person'.")
    request = RequestLog(request_id="r-1")
    # when masked, then both pass through as formatted, and nothing is logged
    with caplog.at_level(logging.DEBUG):
        assert mask_unexpected_error(deliberate, request=request) == deliberate.formatted
        assert deliberate.formatted["extensions"] == {"code": "BAD_USER_INPUT"}
        assert mask_unexpected_error(validation, request=request) == validation.formatted
    assert caplog.records == []


def test_a_failed_department_is_named_with_the_request_id_and_its_detail_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given two fields of one failed department (one failure, remembered for the request)
    failure = SourceUnavailable("disability", 'UndefinedTable (42P01): relation "cjr" does not exist')
    errors = [_failed("disability", "disability", failure), _failed("disability", "certificate", failure)]
    # when presented
    with caplog.at_level(logging.DEBUG):
        presented = present_errors(errors, request=RequestLog(request_id="r-7"))
    # then the client is told which department did not answer and the request id, nothing of why
    assert [error["message"] for error in presented] == [
        "the disability department's system did not answer (request id r-7)"
    ] * 2
    assert presented[0]["extensions"] == {"code": "SOURCE_UNAVAILABLE", "department": "disability", "requestId": "r-7"}
    assert "cjr" not in str(presented)
    # and the log has why, once, under the request id
    assert [record.getMessage() for record in caplog.records] == [
        'request=r-7: the disability department\'s source failed: UndefinedTable (42P01): relation "cjr" does not exist'
    ]


def test_the_schema_logs_no_error_text(caplog: pytest.LogCaptureFixture) -> None:
    # given the hub's schema, and a document with an id in it that fails validation
    @strawberry.type
    class Query:
        name: str = "x"

    hub_schema = schema.HubSchema(query=Query)
    # when it is executed
    with caplog.at_level(logging.DEBUG):
        result = hub_schema.execute_sync(f'{{ leak: nmae(idNumber: "{SECRET}") }}')
    # then the error is returned to the caller, and nothing is logged (strawberry would log its text)
    assert result.errors
    assert caplog.records == []
