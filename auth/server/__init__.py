"""The hub as an OAuth 2.0 authorization server (client credentials, RFC 9068 JWTs, RFC 7662/7009/8414)."""

from auth.server.authorization import TokenService
from auth.server.config import TokenSettings
from auth.server.keystore import KeyRingCache, load_ring, rotate_ring
from auth.server.routes import EngineSource, engine_from_state, oauth_routes

__all__ = [
    "EngineSource",
    "KeyRingCache",
    "TokenService",
    "TokenSettings",
    "engine_from_state",
    "load_ring",
    "oauth_routes",
    "rotate_ring",
]
