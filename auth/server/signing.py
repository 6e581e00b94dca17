"""The hub's own access tokens: signed with the shared ring's current key, checked against all of its keys."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from auth.keys import KeyRing
from auth.server.config import TokenSettings
from auth.server.keystore import KeyRingCache
from auth.server.revocations import is_revoked
from auth.tokens import Claims, Denylist, InvalidToken, TokenIssuer, TokenValidator

# Tolerated clock difference between the worker that signed a token and the one checking it.
CLOCK_SKEW_SECONDS = 10


def issue_access_token(
    ring: KeyRing, settings: TokenSettings, *, client_id: str, scope: Sequence[str], now: datetime | None = None
) -> str:
    issuer = TokenIssuer(ring, issuer=settings.issuer, audience=settings.audience, lifetime=settings.lifetime)
    return issuer.issue(client_id=client_id, scope=list(scope), now=now)


def validate_access_token(
    token: str,
    *,
    engine: sa.Engine,
    keys: KeyRingCache,
    settings: TokenSettings,
    check_revoked: bool = True,
    now: datetime | None = None,
) -> Claims:
    """Claims of a token this hub issued; InvalidToken(reason) otherwise.

    A key id this worker does not know may belong to a ring another worker or `aidgraph keys rotate`
    wrote since: the ring is read again once before the token is refused.
    """
    denylist: Denylist = functools.partial(is_revoked, engine) if check_revoked else _never_revoked

    def validator(ring: KeyRing) -> TokenValidator:
        return TokenValidator(
            ring,
            issuer=settings.issuer,
            audience=settings.audience,
            leeway_seconds=CLOCK_SKEW_SECONDS,
            is_revoked=denylist,
            # The hub issues every token for settings.lifetime, with sub = client_id (TokenIssuer).
            max_lifetime=settings.lifetime,
            subject_is_client=True,
        )

    try:
        return validator(keys.ring(engine)).validate(token, now=now)
    except InvalidToken as error:
        if error.reason != "unknown key id":
            raise
    return validator(keys.fresh(engine)).validate(token, now=now)


def _never_revoked(jti: str, /) -> bool:
    return False
