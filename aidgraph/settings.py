"""Settings of a hub, read from an injected mapping (the environment by default)."""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from auth.people.sessions import IDLE_TIMEOUT
from schema.hardening import DEFAULT_LIMITS

if TYPE_CHECKING:
    from auth.authenticate import ExternalIssuer
    from auth.people.oidc import OidcSettings
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
DEFAULT_TOKEN_FAILURE_LIMIT = 10
DEFAULT_TOKEN_FAILURE_LOCKOUT = 60.0
DEFAULT_CLIENT_RATE_LIMIT = 600
DEFAULT_CONSOLE_IDLE_TIMEOUT = IDLE_TIMEOUT
# A body holds the longest document the parser accepts (schema/hardening.py, counted in characters),
# each character at most 4 bytes of UTF-8, plus room for the variables and the JSON around them.
UTF8_BYTES_PER_CHARACTER = 4
VARIABLES_BYTES = 64 * 1024
DEFAULT_MAX_REQUEST_BYTES = DEFAULT_LIMITS.characters * UTF8_BYTES_PER_CHARACTER + VARIABLES_BYTES
DEFAULT_POOL_SIZE = 10
DEFAULT_POOL_TIMEOUT = 2.0
DEFAULT_REQUEST_TIMEOUT = 30.0
DEFAULT_STATEMENT_TIMEOUT = 10.0
# A worker's Python runs one thread at a time: beyond the threads it keeps busy while others wait on
# the store, more only contend for the interpreter lock (docs/benchmarks.md: 8 threads served the
# household picture at concurrency 16 about a fifth slower than 2).
DEFAULT_EXECUTION_THREADS = 2
DEFAULT_MAX_IN_FLIGHT = 64

# The variables that set each field of auth.people.oidc.OidcSettings, to name them when one is refused.
OIDC_VARIABLES = {
    "issuer": "AIDGRAPH_OIDC_ISSUER",
    "client_id": "AIDGRAPH_OIDC_CLIENT_ID",
    "client_secret": "AIDGRAPH_OIDC_CLIENT_SECRET",
    "redirect_uri": "AIDGRAPH_OIDC_REDIRECT_URI",
    "username_claim": "AIDGRAPH_OIDC_USERNAME_CLAIM",
}

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
    # The early-warning rules file (casework/warnings/rules.py); None: the rules the hub ships.
    warning_rules_file: Path | None = None
    # The hub's public base URL: `iss` of its tokens, and where its OAuth endpoints are.
    token_issuer: str = DEFAULT_TOKEN_ISSUER
    token_audience: str = DEFAULT_TOKEN_AUDIENCE
    token_lifetime: timedelta = DEFAULT_TOKEN_LIFETIME
    # Token requests per client per minute, counted by each worker on its own; 0 turns the limit off.
    token_rate_limit: int = DEFAULT_TOKEN_RATE_LIMIT
    # Look-ups by key that find nothing visible, per client per minute, counted by each worker; 0: no limit.
    lookup_miss_limit: int = DEFAULT_LOOKUP_MISS_LIMIT
    # Failed token requests per claimed client id and per address before both are refused for
    # `token_failure_lockout` seconds (per worker); 0 turns it off.
    token_failure_limit: int = DEFAULT_TOKEN_FAILURE_LIMIT
    token_failure_lockout: float = DEFAULT_TOKEN_FAILURE_LOCKOUT
    # /graphql and export requests per client per minute, per worker, unless the client's registration
    # sets its own (aidgraph clients limit); 0 turns it off.
    client_rate_limit: int = DEFAULT_CLIENT_RATE_LIMIT
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    # A console session that sees no request for this long has ended (auth/people/sessions.py).
    console_idle_timeout: timedelta = DEFAULT_CONSOLE_IDLE_TIMEOUT
    # Store connections each worker keeps for requests; up to as many again are opened when all are taken.
    pool_size: int = DEFAULT_POOL_SIZE
    # Seconds a request waits for a store connection before it is answered 503 STORE_BUSY.
    pool_timeout: float = DEFAULT_POOL_TIMEOUT
    # Seconds a /graphql request may take from its arrival to its answer (else 504); export streams excepted.
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    # PostgreSQL's statement_timeout, in seconds, on the connections that serve requests; 0 turns it off.
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT
    # Threads per worker that execute requests (their resolvers read the store synchronously).
    execution_threads: int = DEFAULT_EXECUTION_THREADS
    # Requests one worker serves at once on /graphql and the export; beyond it 503 at once.
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    # An external OIDC / OAuth issuer trusted besides the hub itself (all None: none).
    external_issuer: str | None = None
    external_jwks_url: str | None = None
    external_audience: str | None = None
    development: bool = False
    # Every client may send registered operations only (aidgraph operations add); a client's own
    # registration may ask that of it alone (aidgraph clients restrict).
    registered_operations_only: bool = False
    # Run a registered operation by its compiled plan (compiled/) where the compiler follows its shape;
    # off: every operation through graphql-core's executor (the benchmark's and the tests' comparison).
    compiled_plans: bool = True
    # Send queued webhook deliveries from the server process (several workers share the work safely).
    deliver_webhooks: bool = True
    # Let a policy draft's author approve it (a one-person test deployment); otherwise four eyes.
    policy_single_person: bool = False
    # Observability (docs/operations.md): who may read /metrics, where spans go, how the log is written.
    metrics_networks: tuple[str, ...] = DEFAULT_METRICS_NETWORKS
    otlp_endpoint: str | None = None
    log_format: str = "json"
    # Single sign-on for the console (auth/people/oidc.py), off while no issuer is set. The username
    # claim None: the relying party's default (preferred_username).
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    oidc_redirect_uri: str | None = None
    oidc_username_claim: str | None = None

    def __post_init__(self) -> None:
        if not timedelta(0) < self.token_lifetime <= MAX_TOKEN_LIFETIME:
            raise SettingsError(
                f"AIDGRAPH_TOKEN_LIFETIME must be 1 to {int(MAX_TOKEN_LIFETIME.total_seconds())} seconds"
            )
        if self.token_rate_limit < 0:
            raise SettingsError("AIDGRAPH_TOKEN_RATE_LIMIT must not be negative (0 turns it off)")
        if self.lookup_miss_limit < 0:
            raise SettingsError("AIDGRAPH_LOOKUP_MISS_LIMIT must not be negative (0 turns it off)")
        if self.token_failure_limit < 0:
            raise SettingsError("AIDGRAPH_TOKEN_FAILURE_LIMIT must not be negative (0 turns it off)")
        if self.client_rate_limit < 0:
            raise SettingsError("AIDGRAPH_CLIENT_RATE_LIMIT must not be negative (0 turns it off)")
        if self.max_request_bytes < 1:
            raise SettingsError("AIDGRAPH_MAX_REQUEST_BYTES must be a positive number of bytes")
        if self.console_idle_timeout <= timedelta(0):
            raise SettingsError("AIDGRAPH_CONSOLE_IDLE_TIMEOUT must be a positive number of seconds")
        for name, seconds in (
            ("AIDGRAPH_TOKEN_FAILURE_LOCKOUT", self.token_failure_lockout),
            ("AIDGRAPH_POOL_TIMEOUT", self.pool_timeout),
            ("AIDGRAPH_REQUEST_TIMEOUT", self.request_timeout),
        ):
            if not seconds > 0:
                raise SettingsError(f"{name} must be a positive number of seconds")
        if self.statement_timeout < 0:
            raise SettingsError("AIDGRAPH_STATEMENT_TIMEOUT must not be negative (0 turns it off)")
        if self.pool_size < 1:
            raise SettingsError("AIDGRAPH_POOL_SIZE must be at least 1")
        if self.execution_threads < 1:
            raise SettingsError("AIDGRAPH_EXECUTION_THREADS must be at least 1")
        if self.max_in_flight < 1:
            raise SettingsError("AIDGRAPH_MAX_IN_FLIGHT must be at least 1")
        if (self.external_issuer is None) != (self.external_jwks_url is None):
            raise SettingsError("set AIDGRAPH_EXTERNAL_ISSUER and AIDGRAPH_EXTERNAL_JWKS_URL together, or neither")
        self.networks()  # refuses one that is not a network
        if self.log_format not in LOG_FORMATS:
            raise SettingsError(f"AIDGRAPH_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {self.log_format!r}")
        if self.otlp_endpoint is not None and not self.otlp_endpoint.startswith(("http://", "https://")):
            raise SettingsError("AIDGRAPH_OTLP_ENDPOINT must be an http:// or https:// address")
        self._check_oidc()

    def _check_oidc(self) -> None:
        others = (self.oidc_client_id, self.oidc_client_secret, self.oidc_redirect_uri, self.oidc_username_claim)
        if self.oidc_issuer is None:
            if any(value is not None for value in others):
                raise SettingsError(
                    "the AIDGRAPH_OIDC_* settings need AIDGRAPH_OIDC_ISSUER: set it too, or none of them"
                )
            return
        if self.oidc_client_id is None or self.oidc_redirect_uri is None:
            raise SettingsError("AIDGRAPH_OIDC_ISSUER needs AIDGRAPH_OIDC_CLIENT_ID and AIDGRAPH_OIDC_REDIRECT_URI")
        from auth.people.oidc import InvalidOidcSettings

        try:
            self.oidc_settings()
        except InvalidOidcSettings as error:
            raise SettingsError(f"{OIDC_VARIABLES.get(error.field, error.field)} {error.reason}") from None

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Settings:
        sources = values.get("AIDGRAPH_SOURCES")
        return cls(
            database_url=values.get("AIDGRAPH_DATABASE_URL") or DEFAULT_DATABASE_URL,
            sources_file=Path(sources) if sources else None,
            warning_rules_file=Path(rules) if (rules := values.get("AIDGRAPH_WARNING_RULES")) else None,
            token_issuer=values.get(TOKEN_ISSUER_VARIABLE) or DEFAULT_TOKEN_ISSUER,
            token_audience=values.get("AIDGRAPH_TOKEN_AUDIENCE") or DEFAULT_TOKEN_AUDIENCE,
            token_lifetime=timedelta(
                seconds=_integer(values, "AIDGRAPH_TOKEN_LIFETIME", int(DEFAULT_TOKEN_LIFETIME.total_seconds()))
            ),
            token_rate_limit=_integer(values, "AIDGRAPH_TOKEN_RATE_LIMIT", DEFAULT_TOKEN_RATE_LIMIT),
            lookup_miss_limit=_integer(values, "AIDGRAPH_LOOKUP_MISS_LIMIT", DEFAULT_LOOKUP_MISS_LIMIT),
            token_failure_limit=_integer(values, "AIDGRAPH_TOKEN_FAILURE_LIMIT", DEFAULT_TOKEN_FAILURE_LIMIT),
            token_failure_lockout=_seconds(values, "AIDGRAPH_TOKEN_FAILURE_LOCKOUT", DEFAULT_TOKEN_FAILURE_LOCKOUT),
            client_rate_limit=_integer(values, "AIDGRAPH_CLIENT_RATE_LIMIT", DEFAULT_CLIENT_RATE_LIMIT),
            max_request_bytes=_integer(values, "AIDGRAPH_MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES),
            console_idle_timeout=timedelta(
                seconds=_seconds(values, "AIDGRAPH_CONSOLE_IDLE_TIMEOUT", DEFAULT_CONSOLE_IDLE_TIMEOUT.total_seconds())
            ),
            pool_size=_integer(values, "AIDGRAPH_POOL_SIZE", DEFAULT_POOL_SIZE),
            pool_timeout=_seconds(values, "AIDGRAPH_POOL_TIMEOUT", DEFAULT_POOL_TIMEOUT),
            request_timeout=_seconds(values, "AIDGRAPH_REQUEST_TIMEOUT", DEFAULT_REQUEST_TIMEOUT),
            statement_timeout=_seconds(values, "AIDGRAPH_STATEMENT_TIMEOUT", DEFAULT_STATEMENT_TIMEOUT),
            execution_threads=_integer(values, "AIDGRAPH_EXECUTION_THREADS", DEFAULT_EXECUTION_THREADS),
            max_in_flight=_integer(values, "AIDGRAPH_MAX_IN_FLIGHT", DEFAULT_MAX_IN_FLIGHT),
            external_issuer=values.get("AIDGRAPH_EXTERNAL_ISSUER") or None,
            external_jwks_url=values.get("AIDGRAPH_EXTERNAL_JWKS_URL") or None,
            external_audience=values.get("AIDGRAPH_EXTERNAL_AUDIENCE") or None,
            development=_boolean(values, "AIDGRAPH_DEVELOPMENT"),
            registered_operations_only=_boolean(values, "AIDGRAPH_REGISTERED_OPERATIONS_ONLY"),
            compiled_plans=_boolean(values, "AIDGRAPH_COMPILED_PLANS", default=True),
            deliver_webhooks=_boolean(values, "AIDGRAPH_WEBHOOKS", default=True),
            policy_single_person=_boolean(values, "AIDGRAPH_POLICY_SINGLE_PERSON"),
            metrics_networks=_words(values, "AIDGRAPH_METRICS_NETWORKS") or DEFAULT_METRICS_NETWORKS,
            # the standard variable of OpenTelemetry's exporters turns the exporter on as well
            otlp_endpoint=values.get("AIDGRAPH_OTLP_ENDPOINT") or values.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
            log_format=(values.get("AIDGRAPH_LOG_FORMAT") or "json").strip().lower(),
            oidc_issuer=values.get("AIDGRAPH_OIDC_ISSUER") or None,
            oidc_client_id=values.get("AIDGRAPH_OIDC_CLIENT_ID") or None,
            oidc_client_secret=values.get("AIDGRAPH_OIDC_CLIENT_SECRET") or None,
            oidc_redirect_uri=values.get("AIDGRAPH_OIDC_REDIRECT_URI") or None,
            oidc_username_claim=values.get("AIDGRAPH_OIDC_USERNAME_CLAIM") or None,
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
            failure_limit=self.token_failure_limit,
            failure_lockout=self.token_failure_lockout,
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

    def oidc_settings(self) -> OidcSettings | None:
        """The console's single sign-on, or None when it is off (no AIDGRAPH_OIDC_ISSUER)."""
        if self.oidc_issuer is None or self.oidc_client_id is None or self.oidc_redirect_uri is None:
            return None
        from auth.people.oidc import OidcSettings

        claim = {} if self.oidc_username_claim is None else {"username_claim": self.oidc_username_claim}
        return OidcSettings(
            issuer=self.oidc_issuer,
            client_id=self.oidc_client_id,
            client_secret=self.oidc_client_secret,
            redirect_uri=self.oidc_redirect_uri,
            **claim,
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
            f"token_failure_limit={self.token_failure_limit!r}, token_failure_lockout={self.token_failure_lockout!r}, "
            f"client_rate_limit={self.client_rate_limit!r}, max_request_bytes={self.max_request_bytes!r}, "
            f"console_idle_timeout={self.console_idle_timeout!r}, "
            f"pool_size={self.pool_size!r}, pool_timeout={self.pool_timeout!r}, "
            f"request_timeout={self.request_timeout!r}, "
            f"statement_timeout={self.statement_timeout!r}, execution_threads={self.execution_threads!r}, "
            f"max_in_flight={self.max_in_flight!r}, registered_operations_only={self.registered_operations_only!r}, "
            f"compiled_plans={self.compiled_plans!r}, "
            f"oidc_issuer={self.oidc_issuer!r}, oidc_client_id={self.oidc_client_id!r}, "
            f"oidc_client_secret={'***' if self.oidc_client_secret else None!r}, "
            f"oidc_redirect_uri={self.oidc_redirect_uri!r}, oidc_username_claim={self.oidc_username_claim!r})"
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


def _seconds(values: Mapping[str, str], name: str, default: float) -> float:
    text = values.get(name)
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {text!r}") from None
    if not math.isfinite(seconds):
        raise SettingsError(f"{name} must be a finite number of seconds, not {text!r}")
    return seconds


def _boolean(values: Mapping[str, str], name: str, *, default: bool = False) -> bool:
    text = values.get(name, "").strip().lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(f"{name} must be one of {', '.join(_TRUE)} or {', '.join(_FALSE[1:])}, not {text!r}")
