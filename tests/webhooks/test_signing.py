"""Signatures as a receiver checks them: HMAC-SHA256 over "timestamp.body", five minutes' tolerance."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from tests.webhooks.receiver import running
from webhooks.signing import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    InvalidSignature,
    sign,
    signed_headers,
    verify,
    verify_headers,
)

SECRET = "whsec_" + "k" * 40
BODY = b'{"id":"evt_1","subscription":"sub_1","type":"student.eligible"}'
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_a_signed_body_verifies_with_the_same_secret() -> None:
    # given headers signed by the hub
    headers = signed_headers(SECRET, event_id="evt_1", body=BODY, now=NOW)
    # when a receiver verifies them against the raw body, a minute later
    signed_at = verify_headers(SECRET, body=BODY, headers=headers, now=NOW + timedelta(minutes=1))
    # then they verify, and the signature is the documented HMAC in hex
    assert signed_at == int(NOW.timestamp())
    assert headers[EVENT_ID_HEADER] == "evt_1"
    assert headers[SIGNATURE_HEADER] == sign(SECRET, timestamp=signed_at, body=BODY)
    expected = hmac.new(SECRET.encode(), f"{signed_at}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == f"v1={expected}"


@pytest.mark.parametrize(
    ("secret", "body", "moved", "problem"),
    [
        ("whsec_" + "x" * 40, BODY, timedelta(0), "no signature matches"),
        (SECRET, BODY + b" ", timedelta(0), "no signature matches"),
        (SECRET, BODY, timedelta(minutes=5, seconds=1), "outside the tolerance"),
        (SECRET, BODY, -timedelta(minutes=5, seconds=1), "outside the tolerance"),
    ],
    ids=["another secret", "a changed body", "a replay after five minutes", "a timestamp from the future"],
)
def test_a_forged_altered_or_replayed_request_is_refused(
    secret: str, body: bytes, moved: timedelta, problem: str
) -> None:
    # given headers signed by the hub
    headers = signed_headers(SECRET, event_id="evt_1", body=BODY, now=NOW)
    # when they are checked with another secret, against another body, or at another time
    with pytest.raises(InvalidSignature, match=problem):
        verify_headers(secret, body=body, headers=headers, now=NOW + moved)
    # then (raised) the request is refused


def test_malformed_headers_are_refused() -> None:
    # given no timestamp, a non-numeric one, or no signature, then each is refused
    with pytest.raises(InvalidSignature, match="timestamp"):
        verify(SECRET, body=BODY, timestamp=None, signature="v1=00", now=NOW)
    with pytest.raises(InvalidSignature, match="timestamp"):
        verify(SECRET, body=BODY, timestamp="soon", signature="v1=00", now=NOW)
    with pytest.raises(InvalidSignature, match="no signature"):
        verify(SECRET, body=BODY, timestamp=str(int(NOW.timestamp())), signature=None, now=NOW)


def test_any_one_of_several_signatures_is_enough() -> None:
    # given a signature header carrying an old secret's signature and the current one (a rotation)
    timestamp = int(NOW.timestamp())
    old, current = (sign(key, timestamp=timestamp, body=BODY) for key in ("whsec_" + "o" * 40, SECRET))
    header = f"{old}, {current}"
    # when it is verified with the current secret, then it passes
    assert verify(SECRET, body=BODY, timestamp=str(timestamp), signature=header, now=NOW) == timestamp


def test_the_test_receiver_refuses_a_replayed_request() -> None:
    # given a request signed six minutes ago (captured, say, and sent again now), and the same one signed now
    stale = signed_headers(SECRET, event_id="evt_1", body=BODY, now=datetime.now(UTC) - timedelta(minutes=6))
    fresh = signed_headers(SECRET, event_id="evt_1", body=BODY, now=datetime.now(UTC))
    with running(SECRET) as receiver, httpx2.Client(trust_env=False) as client:
        # when both reach the receiver
        replayed = client.post(receiver.url, content=BODY, headers=stale)
        accepted = client.post(receiver.url, content=BODY, headers=fresh)
    # then the replay is refused with 401, and only the fresh one is taken
    assert (replayed.status_code, accepted.status_code) == (401, 200)
    assert receiver.event_ids == ["evt_1"]
