"""Who is asking: the registered client behind a validated access token (DESIGN §3)."""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.rules.regions import Region, covered


@dataclass(frozen=True)
class Principal:
    """A registered client as one request sees it.

    `purposes` are those the client may declare at all; `token_purposes` those its token carries
    (`purpose:<code>` scopes). A request's one purpose must be in both.
    """

    client_id: str
    department: str
    roles: frozenset[str]
    regions: tuple[str, ...]
    purposes: frozenset[str]
    token_purposes: frozenset[str]
    pseudonym_key: bytes
    jti: str | None = None
    rate_limit: int | None = None  # requests per minute the client registered with; None: the hub's default
    registered_only: bool = False  # it may send registered operations only (registered/)

    def covers(self, division_code: str) -> bool:
        """Whether a 6- or 12-digit division code lies inside one of the client's regions."""
        return covered(division_code, map(Region, self.regions))


PURPOSE_SCOPE = "purpose:"


def token_purposes(scopes: tuple[str, ...] | list[str]) -> frozenset[str]:
    return frozenset(scope[len(PURPOSE_SCOPE) :] for scope in scopes if scope.startswith(PURPOSE_SCOPE))
