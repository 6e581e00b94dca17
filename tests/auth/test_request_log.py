"""The fields of a request's log lines, and exceptions described by type and place, never by text."""

from __future__ import annotations

from auth.audit.event import document_digest
from auth.request_log import RequestLog, describe_exception, new_request_id

SECRET = "350583195003101116"  # stands for any value a document or an exception's text may quote
DOCUMENT = f'query Picture {{ person(idNumber: "{SECRET}") {{ name }} }}'


def test_the_fields_name_the_request_and_its_operation_but_never_hold_the_document() -> None:
    # given documents naming their operation, choosing one of two, asking for one they lack, broken
    two = "query A { __typename } query B { __typename }"
    # then the fields are the request id and the operation the document runs, if it names one
    assert RequestLog(request_id="r-1", query=DOCUMENT).fields() == {"request": "r-1", "operation": "Picture"}
    assert str(RequestLog(request_id="r-2", query=two, operation_name="B")) == "request=r-2 operation=B"
    assert str(RequestLog(request_id="r-3", query=two, operation_name=f"Q{SECRET}")) == "request=r-3"
    assert str(RequestLog(request_id="r-4", query="{ person(")) == "request=r-4"
    assert str(RequestLog(request_id="r-5", query="{ __typename }")) == "request=r-5"
    # and neither its text nor its repr holds the document
    assert SECRET not in repr(RequestLog(request_id="r-6", query=DOCUMENT))


def test_a_line_carries_the_keyed_hash_the_audit_event_stores() -> None:
    # given the hub's document key
    key = bytes(range(32))
    # when a request's fields are made with it
    fields = RequestLog(request_id="r-7", query=DOCUMENT, document_key=key).fields()
    # then they hold the audit trail's keyed hash of the document, which a line can be matched on
    assert fields["document"] == document_digest(key, DOCUMENT)
    assert fields["document"] != document_digest(bytes(32), DOCUMENT)  # keyed: another key, another value
    assert SECRET not in str(fields)


def test_request_ids_are_fresh() -> None:
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100 and all(len(found) == 16 for found in ids)


def _lookup(key: str) -> None:
    raise KeyError(key)


def _statement(key: str) -> None:
    statement = f"SELECT ... WHERE sfzh = '{key}'"
    try:
        _lookup(key)
    except KeyError as error:
        raise RuntimeError(statement) from error


def test_an_exception_is_described_by_its_types_and_frames_not_its_messages() -> None:
    # given an exception raised from another, both quoting an id
    try:
        _statement(SECRET)
    except RuntimeError as raised:
        error = raised
    # when described
    described = describe_exception(error)
    # then both types and the functions they went through are named, and neither message appears
    assert "builtins.RuntimeError" in described and "builtins.KeyError" in described
    assert "in _statement" in described and "in _lookup" in described
    assert described.index("RuntimeError") < described.index("which was raised while handling")
    assert SECRET not in described and "SELECT" not in described
