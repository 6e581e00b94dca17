"""Webhook subscriptions: a registered client asks to be told, at a URL, of the events the hub raises.

A subscription belongs to one client and names the event kinds it wants (`events`, registered in
webhooks.kinds), within the client's regions (or a part of them); its client must be allowed each kind's
purpose. Student events follow named terms: a subscription to them names at least one.

The secret it is signed with is shown once, at subscription, and kept in the store as such: the hub
needs the secret itself to sign (an HMAC key cannot be kept as a one-way hash, unlike the clients' own
secrets). It is never logged, listed or part of `Subscription`.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

import sqlalchemy as sa

from auth.clients import normalise_regions
from auth.tables import oauth_client
from resolvers.rules.regions import Region
from resolvers.rules.terms import Term
from webhooks.clock import now_or, utc
from webhooks.kinds import KINDS, named_purposes, refused_purposes
from webhooks.signing import new_secret
from webhooks.tables import webhook_subscription

_MIN_SECRET = 24


class SubscriptionError(ValueError):
    """A subscription that cannot be made or found; the message says what to change."""


@dataclass(frozen=True)
class Subscription:
    """A subscription as listed: everything but its secret."""

    subscription_id: str
    client_id: str
    url: str
    events: tuple[str, ...]
    terms: tuple[str, ...]
    regions: tuple[str, ...] | None
    announce_existing: bool
    active: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Subscription:
        return cls(
            subscription_id=row["subscription_id"],
            client_id=row["client_id"],
            url=row["url"],
            events=tuple(row["events"]),
            terms=tuple(row["terms"]),
            regions=tuple(row["regions"]) if row["regions"] is not None else None,
            announce_existing=bool(row["announce_existing"]),
            active=bool(row["active"]),
            created_at=utc(row["created_at"]),
        )


STUDENT_EVENTS: Final = ("student.eligible", "student.no_longer_eligible")
"""What a subscription made without naming its events receives (every subscription before events were named)."""


def check_events(events: Sequence[str]) -> tuple[str, ...]:
    """Registered kinds, each once, in the order given; at least one."""
    chosen = tuple(dict.fromkeys(event.strip() for event in events if event.strip()))
    if not chosen:
        raise SubscriptionError("a subscription needs at least one event kind")
    unknown = [event for event in chosen if event not in KINDS]
    if unknown:
        raise SubscriptionError(f"event kind {unknown[0]!r} is not registered (known: {', '.join(KINDS)})")
    return chosen


def follows_terms(events: Sequence[str]) -> bool:
    """Whether the kinds need terms: student events are found per term."""
    return any(event in STUDENT_EVENTS for event in events)


def check_term(term: str) -> str:
    """`YYYY-YYYY-1` (from 1 September) or `YYYY-YYYY-2` (from 1 March), the years consecutive."""
    try:
        Term.parse(term.strip())
    except ValueError:
        raise SubscriptionError(f"term {term!r}: use YYYY-YYYY-1 or YYYY-YYYY-2 with consecutive years") from None
    return term.strip()


def check_url(url: str, *, allow_http: bool = False) -> str:
    """HTTPS, or plain HTTP to this machine (a local relay or a test); other HTTP only when allowed."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SubscriptionError(f"url {url!r}: an absolute http(s) URL is needed")
    if parts.username or parts.password:
        raise SubscriptionError("url: credentials do not belong in the URL (the signature authenticates the hub)")
    if parts.scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
        raise SubscriptionError(f"url {url!r}: use https (plain http only to localhost, or when allowed)")
    return url.strip()


def intersect_regions(client_regions: Sequence[str], wanted: Sequence[str] | None) -> tuple[str, ...]:
    """Division-code prefixes covered by both: `35` and `350583` give `350583`; disjoint ones give nothing."""
    if wanted is None:
        return tuple(client_regions)
    result: list[str] = []
    for region in wanted:
        for allowed in client_regions:
            inside = Region(region).intersection(Region(allowed))
            if inside is not None and inside.prefix not in result:
                result.append(inside.prefix)
    return tuple(result)


def subscribe(
    engine: sa.Engine,
    *,
    client_id: str,
    url: str,
    terms: Sequence[str] = (),
    events: Sequence[str] = STUDENT_EVENTS,
    secret: str | None = None,
    regions: Sequence[str] | None = None,
    announce_existing: bool = True,
    allow_http: bool = False,
    now: datetime | None = None,
) -> tuple[Subscription, str]:
    """Subscribe a client; returns the subscription and its signing secret (generated unless given).

    `announce_existing`: the first detection for a term sends `student.eligible` for everyone eligible
    then (the subscription starts from an empty list); off, it only records them, for a receiver that
    loads the term's list from the bulk export instead.
    """
    if secret is not None and len(secret) < _MIN_SECRET:
        raise SubscriptionError(f"a webhook secret needs at least {_MIN_SECRET} characters")
    checked_events = check_events(events)
    checked_terms = list(dict.fromkeys(check_term(term) for term in terms))
    if follows_terms(checked_events) and not checked_terms:
        raise SubscriptionError("a subscription to student events needs at least one term")
    if checked_terms and not follows_terms(checked_events):
        raise SubscriptionError("terms belong to student events, which the subscription does not name")
    with engine.begin() as connection:
        client = connection.execute(
            sa.select(oauth_client.c.regions, oauth_client.c.purposes, oauth_client.c.disabled).where(
                oauth_client.c.client_id == client_id
            )
        ).first()
        if client is None:
            raise SubscriptionError(f"no client {client_id!r} is registered")
        if client.disabled:
            raise SubscriptionError(f"client {client_id!r} is disabled")
        refused = refused_purposes(client.purposes, checked_events)
        if refused:
            raise SubscriptionError(f"client {client_id!r} may not declare {named_purposes(refused)}")
        wanted = None
        if regions is not None:
            wanted = list(normalise_regions(regions))
            outside = [region for region in wanted if not intersect_regions(client.regions, [region]) == (region,)]
            if outside:
                raise SubscriptionError(f"regions {outside} are not within the client's regions {client.regions}")
        signing_secret = secret or new_secret()
        row = {
            "subscription_id": "sub_" + secrets.token_hex(12),
            "client_id": client_id,
            "url": check_url(url, allow_http=allow_http),
            "secret": signing_secret,
            "events": list(checked_events),
            "terms": checked_terms,
            "regions": wanted,
            "announce_existing": announce_existing,
            "active": True,
            "created_at": now_or(now),
        }
        connection.execute(webhook_subscription.insert().values(**row))
    return Subscription.from_row(row), signing_secret


def list_subscriptions(engine: sa.Engine, *, client_id: str | None = None) -> list[Subscription]:
    statement = sa.select(*_LISTED).order_by(webhook_subscription.c.client_id, webhook_subscription.c.created_at)
    if client_id is not None:
        statement = statement.where(webhook_subscription.c.client_id == client_id)
    with engine.connect() as connection:
        return [Subscription.from_row(row) for row in connection.execute(statement).mappings()]


def deactivate(engine: sa.Engine, subscription_id: str) -> None:
    """Stop detecting and sending for a subscription; its pending deliveries stay in the store, unsent."""
    with engine.begin() as connection:
        updated = connection.execute(
            webhook_subscription.update()
            .where(webhook_subscription.c.subscription_id == subscription_id)
            .values(active=False)
        ).rowcount
    if not updated:
        raise SubscriptionError(f"no subscription {subscription_id!r}")


_LISTED = [column for column in webhook_subscription.c if column.name != "secret"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
