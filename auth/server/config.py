"""What the authorization server needs to know about itself: its name, its tokens' audience and limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from authlib.common.security import is_secure_transport

from auth.tokens import MAX_LIFETIME

DEFAULT_ISSUER = "http://127.0.0.1:8000"
DEFAULT_AUDIENCE = "aidgraph"
DEFAULT_LIFETIME = timedelta(minutes=10)
DEFAULT_RATE_LIMIT = 30  # token requests per client per minute, per worker
DEFAULT_FAILURE_LIMIT = 10  # failed token requests per claimed client id, and per address, per worker
DEFAULT_FAILURE_LOCKOUT = 60.0  # seconds refused after that many failures within as many seconds


@dataclass(frozen=True)
class TokenSettings:
    """`issuer` is the hub's public base URL: tokens name it in `iss`, and the endpoints hang off it."""

    issuer: str = DEFAULT_ISSUER
    audience: str = DEFAULT_AUDIENCE
    lifetime: timedelta = DEFAULT_LIFETIME
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT
    # Failures (an unknown client, a wrong secret, a disabled client) before a claimed client id or an
    # address is refused for `failure_lockout` seconds; 0 turns it off.
    failure_limit: int = DEFAULT_FAILURE_LIMIT
    failure_lockout: float = DEFAULT_FAILURE_LOCKOUT

    def __post_init__(self) -> None:
        # Client secrets and bearer tokens travel in clear over plain HTTP: only this machine may use it.
        if not is_secure_transport(self.issuer) or "?" in self.issuer or "#" in self.issuer:
            raise ValueError(
                f"token issuer {self.issuer!r} must be an https URL without query or fragment "
                "(plain http only on localhost / 127.0.0.1)"
            )
        if not self.audience:
            raise ValueError("token audience must not be empty")
        if not timedelta(0) < self.lifetime <= MAX_LIFETIME:
            raise ValueError(f"token lifetime must be positive and at most {MAX_LIFETIME}")
        if self.rate_limit_per_minute < 0:
            raise ValueError("token rate limit must not be negative (0 turns it off)")
        if self.failure_limit < 0:
            raise ValueError("token failure limit must not be negative (0 turns it off)")
        if self.failure_lockout <= 0:
            raise ValueError("token failure lockout must be a positive number of seconds")

    def endpoint(self, path: str) -> str:
        return self.issuer.rstrip("/") + path
