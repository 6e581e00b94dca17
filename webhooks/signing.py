"""Signing a webhook body, and checking it as a receiver should: HMAC-SHA256 over "timestamp.body".

The hub sends, with each POST:

    Aidgraph-Event-Id:   evt_...        the idempotency key (also the payload's "id")
    Aidgraph-Timestamp:  1795000000     Unix seconds when this attempt was signed
    Aidgraph-Signature:  v1=<hex>       HMAC-SHA256(secret, f"{timestamp}.{body}") in lower-case hex

A receiver recomputes the HMAC over the raw body bytes as received (before any JSON parsing), compares
in constant time, and refuses a timestamp more than five minutes from its own clock (a captured request
cannot be replayed later); then it drops an event id it has already processed (retries resend it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

EVENT_ID_HEADER: Final = "Aidgraph-Event-Id"
TIMESTAMP_HEADER: Final = "Aidgraph-Timestamp"
SIGNATURE_HEADER: Final = "Aidgraph-Signature"
TOLERANCE: Final = timedelta(minutes=5)
_SCHEME: Final = "v1"


class InvalidSignature(ValueError):
    """A request that did not come from the hub with this secret, or came too late (a replay)."""


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, *, timestamp: int, body: bytes) -> str:
    """The signature header's value for one attempt."""
    message = str(timestamp).encode("ascii") + b"." + body
    return f"{_SCHEME}=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, *, event_id: str, body: bytes, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        "Content-Type": "application/json",
        EVENT_ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp=timestamp, body=body),
    }


def verify(
    secret: str,
    *,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: datetime | None = None,
    tolerance: timedelta = TOLERANCE,
) -> int:
    """Check one request's signature headers against its raw body; returns the timestamp or raises.

    `signature` may list several `v1=` values separated by commas or spaces (a receiver rotating its
    secret can be sent both); one match is enough.
    """
    if not timestamp or not timestamp.isascii() or not timestamp.isdigit():
        raise InvalidSignature("missing or malformed timestamp")
    signed_at = int(timestamp)
    moment = (now or datetime.now(UTC)).timestamp()
    if abs(moment - signed_at) > tolerance.total_seconds():
        raise InvalidSignature("timestamp outside the tolerance (a replay, or a clock far off)")
    expected = sign(secret, timestamp=signed_at, body=body)
    offered = (signature or "").replace(",", " ").split()
    # compare_digest against every offered value, so the time taken does not say which one was close
    matches = [hmac.compare_digest(expected.encode(), value.encode()) for value in offered if value.isascii()]
    if not any(matches):
        raise InvalidSignature("no signature matches the body")
    return signed_at


def verify_headers(
    secret: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime | None = None,
    tolerance: timedelta = TOLERANCE,
) -> int:
    """`verify` reading the headers from a case-insensitive mapping (e.g. a framework's request headers)."""
    return verify(
        secret,
        body=body,
        timestamp=headers.get(TIMESTAMP_HEADER) or headers.get(TIMESTAMP_HEADER.lower()),
        signature=headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower()),
        now=now,
        tolerance=tolerance,
    )
