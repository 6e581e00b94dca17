"""Settings of a hub, read from an injected mapping (the environment by default)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from auth.authenticate import ExternalIssuer
    from auth.server import TokenSettings

DEFAULT_DATABASE_URL = "sqlite:///aidgraph.db"
TOKEN_ISSUER_VARIABLE = "AIDGRAPH_TOKEN_ISSUER"
DEFAULT_TOKEN_AUDIENCE = "aidgraph"
DEFAULT_TOKEN_LIFETIME = timedelta(minutes=10)
MAX_TOKEN_LIFETIME = timedelta(minutes=15)  # auth.tokens.MAX_LIFETIME; checked again there
DEFAULT_TOKEN_RATE_LIMIT = 30
DEFAULT_LOOKUP_MISS_LIMIT = 30
DEFAULT_METRICS_NETWORKS = ("127.0.0.0/8", "::1/128")
LOG_FORMATS = ("json", "text")

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def loopback_issuer(host: str, port: int) -> str:
    """The issuer of a hub served on this machine at host:port, for when AIDGRAPH_TOKEN_ISSUER names none."""
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


# `aidgraph serve` follows its --host and --port instead (aidgraph.cli.serve).
DEFAULT_TOKEN_ISSUER = loopback_issuer("127.0.0.1", 8000)


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the environment variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    sources_file: Path | None = None
    # The hub's public base URL: `iss` of its tokens, and where its OAuth endpoints are.
    token_issuer: str = DEFAULT_TOKEN_ISSUER
    token_audience: str = DEFAULT_TOKEN_AUDIENCE
    token_lifetime: timedelta = DEFAULT_TOKEN_LIFETIME
    # Token requests per client per minute, counted by each worker on its own; 0 turns the limit off.
    token_rate_limit: int = DEFAULT_TOKEN_RATE_LIMIT
    # Look-ups by key that find nothing visible, per client per minute, counted by each worker; 0: no limit.
    lookup_miss_limit: int = DEFAULT_LOOKUP_MISS_LIMIT
    # An external OIDC / OAuth issuer trusted besides the hub itself (all None: none).
    external_issuer: str | None = None
    external_jwks_url: str | None = None
    external_audience: str | None = None
    development: bool = False
    # Send queued webhook deliveries from the server process (several workers share the work safely).
    deliver_webhooks: bool = True
    # Observability (docs/operations.md): who may read /metrics, where spans go, how the log is written.
    metrics_networks: tuple[str, ...] = DEFAULT_METRICS_NETWORKS
    otlp_endpoint: str | None = None
    log_format: str = "json"

    def __post_init__(self) -> None:
        if not timedelta(0) < self.token_lifetime <= MAX_TOKEN_LIFETIME:
            raise SettingsError(
                f"AIDGRAPH_TOKEN_LIFETIME must be 1 to {int(MAX_TOKEN_LIFETIME.total_seconds())} seconds"
            )
        if self.token_rate_limit < 0:
            raise SettingsError("AIDGRAPH_TOKEN_RATE_LIMIT must not be negative (0 turns it off)")
        if self.lookup_miss_limit < 0:
            raise SettingsError("AIDGRAPH_LOOKUP_MISS_LIMIT must not be negative (0 turns it off)")
        if (self.external_issuer is None) != (self.external_jwks_url is None):
            raise SettingsError("set AIDGRAPH_EXTERNAL_ISSUER and AIDGRAPH_EXTERNAL_JWKS_URL together, or neither")
        self.networks()  # refuses one that is not a network
        if self.log_format not in LOG_FORMATS:
            raise SettingsError(f"AIDGRAPH_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {self.log_format!r}")
        if self.otlp_endpoint is not None and not self.otlp_endpoint.startswith(("http://", "https://")):
            raise SettingsError("AIDGRAPH_OTLP_ENDPOINT must be an http:// or https:// address")

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Settings:
        sources = values.get("AIDGRAPH_SOURCES")
        return cls(
            database_url=values.get("AIDGRAPH_DATABASE_URL") or DEFAULT_DATABASE_URL,
            sources_file=Path(sources) if sources else None,
            token_issuer=values.get(TOKEN_ISSUER_VARIABLE) or DEFAULT_TOKEN_ISSUER,
            token_audience=values.get("AIDGRAPH_TOKEN_AUDIENCE") or DEFAULT_TOKEN_AUDIENCE,
            token_lifetime=timedelta(
                seconds=_integer(values, "AIDGRAPH_TOKEN_LIFETIME", int(DEFAULT_TOKEN_LIFETIME.total_seconds()))
            ),
            token_rate_limit=_integer(values, "AIDGRAPH_TOKEN_RATE_LIMIT", DEFAULT_TOKEN_RATE_LIMIT),
            lookup_miss_limit=_integer(values, "AIDGRAPH_LOOKUP_MISS_LIMIT", DEFAULT_LOOKUP_MISS_LIMIT),
            external_issuer=values.get("AIDGRAPH_EXTERNAL_ISSUER") or None,
            external_jwks_url=values.get("AIDGRAPH_EXTERNAL_JWKS_URL") or None,
            external_audience=values.get("AIDGRAPH_EXTERNAL_AUDIENCE") or None,
            development=_boolean(values, "AIDGRAPH_DEVELOPMENT"),
            deliver_webhooks=_boolean(values, "AIDGRAPH_WEBHOOKS", default=True),
            metrics_networks=_words(values, "AIDGRAPH_METRICS_NETWORKS") or DEFAULT_METRICS_NETWORKS,
            # the standard variable of OpenTelemetry's exporters turns the exporter on as well
            otlp_endpoint=values.get("AIDGRAPH_OTLP_ENDPOINT") or values.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
            log_format=(values.get("AIDGRAPH_LOG_FORMAT") or "json").strip().lower(),
        )

    @classmethod
    def from_environment(cls) -> Settings:
        return cls.from_mapping(os.environ)

    def token_settings(self) -> TokenSettings:
        """The authorization server's view; refuses an issuer that is neither https nor loopback."""
        from auth.server import TokenSettings

        return TokenSettings(
            issuer=self.token_issuer,
            audience=self.token_audience,
            lifetime=self.token_lifetime,
            rate_limit_per_minute=self.token_rate_limit,
        )

    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The networks whose callers /metrics answers."""
        try:
            return [ipaddress.ip_network(network.strip()) for network in self.metrics_networks]
        except ValueError as error:
            raise SettingsError(f"AIDGRAPH_METRICS_NETWORKS must list networks such as 127.0.0.0/8: {error}") from None

    def trusted_external_issuer(self) -> ExternalIssuer | None:
        """The external issuer to accept tokens from; its audience defaults to the hub's own."""
        if self.external_issuer is None or self.external_jwks_url is None:
            return None
        from auth.authenticate import ExternalIssuer

        return ExternalIssuer(
            issuer=self.external_issuer,
            jwks_url=self.external_jwks_url,
            audience=self.external_audience or self.token_audience,
        )

    def __repr__(self) -> str:
        # A database URL may carry a password, a JWKS URL credentials: never print them.
        return (
            f"Settings(database_url={redact(self.database_url)!r}, sources_file={self.sources_file!r}, "
            f"token_issuer={self.token_issuer!r}, token_audience={self.token_audience!r}, "
            f"token_lifetime={self.token_lifetime!r}, token_rate_limit={self.token_rate_limit!r}, "
            f"lookup_miss_limit={self.lookup_miss_limit!r}, "
            f"external_issuer={self.external_issuer!r}, "
            f"external_jwks_url={redact_http(self.external_jwks_url)!r}, "
            f"external_audience={self.external_audience!r}, development={self.development!r}, "
            f"metrics_networks={self.metrics_networks!r}, otlp_endpoint={redact_http(self.otlp_endpoint)!r}, "
            f"log_format={self.log_format!r})"
        )


def redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def redact_http(url: str | None) -> str | None:
    """An http(s) URL without user information or query, the places credentials hide in."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "***"
    host = parts.hostname or ""
    netloc = f"***@{host}" if parts.username or parts.password else host
    if port:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


def _integer(values: Mapping[str, str], name: str, default: int) -> int:
    text = values.get(name)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {text!r}") from None


def _words(values: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in values.get(name, "").split(",") if word.strip())


def _boolean(values: Mapping[str, str], name: str, *, default: bool = False) -> bool:
    text = values.get(name, "").strip().lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(f"{name} must be one of {', '.join(_TRUE)} or {', '.join(_FALSE[1:])}, not {text!r}")
