"""Settings come from an injected mapping; the default needs none, and a password never prints."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from aidgraph.settings import (
    DEFAULT_DATABASE_URL,
    UTF8_BYTES_PER_CHARACTER,
    VARIABLES_BYTES,
    Settings,
    SettingsError,
)
from schema.hardening import DEFAULT_LIMITS


def test_no_settings_means_the_embedded_sqlite_store() -> None:
    assert Settings.from_mapping({}) == Settings(database_url=DEFAULT_DATABASE_URL, sources_file=None)


def test_values_are_read_from_the_mapping() -> None:
    settings = Settings.from_mapping(
        {"AIDGRAPH_DATABASE_URL": "postgresql://hub@db/hub", "AIDGRAPH_SOURCES": "/etc/aidgraph/sources.yaml"}
    )
    assert settings.database_url == "postgresql://hub@db/hub"
    assert settings.sources_file == Path("/etc/aidgraph/sources.yaml")


def test_a_database_password_never_prints() -> None:
    settings = Settings.from_mapping({"AIDGRAPH_DATABASE_URL": "postgresql://hub:s3cret@db/hub"})
    assert "s3cret" not in repr(settings)
    assert "***" in repr(settings)


def test_token_settings_default_to_a_local_hub() -> None:
    settings = Settings.from_mapping({})
    tokens = settings.token_settings()
    assert tokens.issuer == "http://127.0.0.1:8000" and tokens.audience == "aidgraph"
    assert tokens.lifetime == timedelta(minutes=10) and tokens.rate_limit_per_minute == 30
    assert settings.trusted_external_issuer() is None
    assert settings.development is False


def test_token_and_external_issuer_settings_are_read_from_the_mapping() -> None:
    settings = Settings.from_mapping(
        {
            "AIDGRAPH_TOKEN_ISSUER": "https://hub.example.org",
            "AIDGRAPH_TOKEN_AUDIENCE": "https://hub.example.org/graphql",
            "AIDGRAPH_TOKEN_LIFETIME": "300",
            "AIDGRAPH_TOKEN_RATE_LIMIT": "0",
            "AIDGRAPH_EXTERNAL_ISSUER": "https://idp.example.org/realms/gov",
            "AIDGRAPH_EXTERNAL_JWKS_URL": "https://idp.example.org/realms/gov/certs",
            "AIDGRAPH_DEVELOPMENT": "yes",
        }
    )
    tokens = settings.token_settings()
    assert tokens.issuer == "https://hub.example.org" and tokens.audience == "https://hub.example.org/graphql"
    assert tokens.lifetime == timedelta(minutes=5) and tokens.rate_limit_per_minute == 0
    external = settings.trusted_external_issuer()
    assert external is not None and external.issuer == "https://idp.example.org/realms/gov"
    assert external.jwks_url == "https://idp.example.org/realms/gov/certs"
    assert external.audience == "https://hub.example.org/graphql"  # the hub's own unless set
    assert settings.development is True


def test_the_limit_on_missed_look_ups_defaults_to_30_and_is_read_from_the_mapping() -> None:
    assert Settings.from_mapping({}).lookup_miss_limit == 30
    assert Settings.from_mapping({"AIDGRAPH_LOOKUP_MISS_LIMIT": "0"}).lookup_miss_limit == 0


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"AIDGRAPH_TOKEN_LIFETIME": "901"}, "AIDGRAPH_TOKEN_LIFETIME must be 1 to 900 seconds"),
        ({"AIDGRAPH_TOKEN_LIFETIME": "0"}, "AIDGRAPH_TOKEN_LIFETIME must be 1 to 900 seconds"),
        ({"AIDGRAPH_TOKEN_LIFETIME": "10m"}, "AIDGRAPH_TOKEN_LIFETIME must be a whole number"),
        ({"AIDGRAPH_TOKEN_RATE_LIMIT": "-1"}, "AIDGRAPH_TOKEN_RATE_LIMIT must not be negative"),
        ({"AIDGRAPH_LOOKUP_MISS_LIMIT": "-1"}, "AIDGRAPH_LOOKUP_MISS_LIMIT must not be negative"),
        ({"AIDGRAPH_LOOKUP_MISS_LIMIT": "lots"}, "AIDGRAPH_LOOKUP_MISS_LIMIT must be a whole number"),
        ({"AIDGRAPH_DEVELOPMENT": "maybe"}, "AIDGRAPH_DEVELOPMENT must be one of"),
        ({"AIDGRAPH_EXTERNAL_ISSUER": "https://idp"}, "AIDGRAPH_EXTERNAL_JWKS_URL together"),
        ({"AIDGRAPH_TOKEN_FAILURE_LIMIT": "-1"}, "AIDGRAPH_TOKEN_FAILURE_LIMIT must not be negative"),
        ({"AIDGRAPH_TOKEN_FAILURE_LOCKOUT": "0"}, "AIDGRAPH_TOKEN_FAILURE_LOCKOUT must be a positive number"),
        ({"AIDGRAPH_CLIENT_RATE_LIMIT": "-3"}, "AIDGRAPH_CLIENT_RATE_LIMIT must not be negative"),
        ({"AIDGRAPH_MAX_REQUEST_BYTES": "0"}, "AIDGRAPH_MAX_REQUEST_BYTES must be a positive number of bytes"),
        ({"AIDGRAPH_POOL_SIZE": "0"}, "AIDGRAPH_POOL_SIZE must be at least 1"),
        ({"AIDGRAPH_POOL_TIMEOUT": "soon"}, "AIDGRAPH_POOL_TIMEOUT must be a number of seconds, not 'soon'"),
        ({"AIDGRAPH_POOL_TIMEOUT": "nan"}, "AIDGRAPH_POOL_TIMEOUT must be a finite number of seconds"),
        ({"AIDGRAPH_REQUEST_TIMEOUT": "-1"}, "AIDGRAPH_REQUEST_TIMEOUT must be a positive number of seconds"),
        ({"AIDGRAPH_STATEMENT_TIMEOUT": "-0.5"}, "AIDGRAPH_STATEMENT_TIMEOUT must not be negative"),
        ({"AIDGRAPH_EXECUTION_THREADS": "0"}, "AIDGRAPH_EXECUTION_THREADS must be at least 1"),
        ({"AIDGRAPH_MAX_IN_FLIGHT": "0"}, "AIDGRAPH_MAX_IN_FLIGHT must be at least 1"),
        ({"AIDGRAPH_CONSOLE_IDLE_TIMEOUT": "0"}, "AIDGRAPH_CONSOLE_IDLE_TIMEOUT must be a positive number"),
    ],
)
def test_unusable_values_are_refused_naming_the_variable(values: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        Settings.from_mapping(values)


def test_request_bounds_are_read_from_the_mapping() -> None:
    settings = Settings.from_mapping(
        {
            "AIDGRAPH_TOKEN_FAILURE_LIMIT": "5",
            "AIDGRAPH_TOKEN_FAILURE_LOCKOUT": "120",
            "AIDGRAPH_CLIENT_RATE_LIMIT": "0",
            "AIDGRAPH_MAX_REQUEST_BYTES": "65536",
            "AIDGRAPH_POOL_SIZE": "4",
            "AIDGRAPH_POOL_TIMEOUT": "0.5",
            "AIDGRAPH_REQUEST_TIMEOUT": "12.5",
            "AIDGRAPH_STATEMENT_TIMEOUT": "0",
            "AIDGRAPH_EXECUTION_THREADS": "3",
            "AIDGRAPH_MAX_IN_FLIGHT": "20",
        }
    )
    assert (settings.token_failure_limit, settings.token_failure_lockout) == (5, 120.0)
    tokens = settings.token_settings()
    assert (tokens.failure_limit, tokens.failure_lockout) == (5, 120.0)
    assert (settings.client_rate_limit, settings.max_request_bytes) == (0, 65536)
    assert (settings.pool_size, settings.pool_timeout, settings.request_timeout) == (4, 0.5, 12.5)
    assert (settings.statement_timeout, settings.execution_threads, settings.max_in_flight) == (0.0, 3, 20)


def test_the_console_idle_timeout_defaults_to_30_minutes_and_is_read_in_seconds() -> None:
    # given no setting, then a setting of 600 seconds
    # then a console session ends after 30 idle minutes, then after 10
    assert Settings().console_idle_timeout == timedelta(minutes=30)
    assert Settings.from_mapping({"AIDGRAPH_CONSOLE_IDLE_TIMEOUT": "600"}).console_idle_timeout == timedelta(minutes=10)


def test_the_default_body_limit_is_the_longest_document_plus_room_for_variables() -> None:
    # derived from the parser's own limit, so raising that one raises this one
    assert Settings().max_request_bytes == DEFAULT_LIMITS.characters * UTF8_BYTES_PER_CHARACTER + VARIABLES_BYTES


def test_an_issuer_over_plain_http_elsewhere_than_this_machine_is_refused() -> None:
    settings = Settings.from_mapping({"AIDGRAPH_TOKEN_ISSUER": "http://hub.example.org"})
    with pytest.raises(ValueError, match="must be an https URL"):
        settings.token_settings()


def test_credentials_in_the_external_jwks_url_never_print() -> None:
    settings = Settings.from_mapping(
        {"AIDGRAPH_EXTERNAL_ISSUER": "https://idp", "AIDGRAPH_EXTERNAL_JWKS_URL": "https://u:pw@idp:8443/keys?k=s3cret"}
    )
    assert "pw" not in repr(settings) and "s3cret" not in repr(settings)
    assert "idp:8443/keys" in repr(settings)
    assert "s3cret" not in repr(settings.trusted_external_issuer())


SSO = {
    "AIDGRAPH_OIDC_ISSUER": "https://sso.example.gov.cn/realms/civil-affairs",
    "AIDGRAPH_OIDC_CLIENT_ID": "aidgraph-console",
    "AIDGRAPH_OIDC_REDIRECT_URI": "https://hub.example.gov.cn/admin/sso/callback",
}


def test_single_sign_on_is_off_without_an_issuer() -> None:
    assert Settings.from_mapping({}).oidc_settings() is None


def test_single_sign_on_is_read_from_the_mapping_and_its_secret_never_prints() -> None:
    # given an issuer, the hub's client there and its secret
    settings = Settings.from_mapping(
        SSO | {"AIDGRAPH_OIDC_CLIENT_SECRET": "s3cret", "AIDGRAPH_OIDC_USERNAME_CLAIM": "uid"}
    )
    # then the relying party gets them, and the secret is nowhere in the settings' repr
    oidc = settings.oidc_settings()
    assert oidc is not None
    assert (oidc.issuer, oidc.client_id, oidc.client_secret) == (
        SSO["AIDGRAPH_OIDC_ISSUER"],
        "aidgraph-console",
        "s3cret",
    )
    assert (oidc.redirect_uri, oidc.username_claim, oidc.scopes) == (
        SSO["AIDGRAPH_OIDC_REDIRECT_URI"],
        "uid",
        "openid profile",
    )
    assert "s3cret" not in repr(settings) and "s3cret" not in repr(oidc)
    # and without a secret it is a public client, with the default username claim
    public = Settings.from_mapping(SSO).oidc_settings()
    assert public is not None and (public.client_secret, public.username_claim) == (None, "preferred_username")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"AIDGRAPH_OIDC_CLIENT_ID": "hub"}, "need AIDGRAPH_OIDC_ISSUER"),
        (SSO | {"AIDGRAPH_OIDC_CLIENT_ID": ""}, "needs AIDGRAPH_OIDC_CLIENT_ID and AIDGRAPH_OIDC_REDIRECT_URI"),
        (SSO | {"AIDGRAPH_OIDC_ISSUER": "http://sso.example.gov.cn"}, "AIDGRAPH_OIDC_ISSUER must be https"),
        (
            SSO | {"AIDGRAPH_OIDC_REDIRECT_URI": "http://hub.example.gov.cn/cb"},
            "AIDGRAPH_OIDC_REDIRECT_URI must be https",
        ),
        (
            SSO | {"AIDGRAPH_OIDC_ISSUER": "https://sso.example.gov.cn/?realm=x"},
            "AIDGRAPH_OIDC_ISSUER must not have a query",
        ),
    ],
)
def test_single_sign_on_settings_that_cannot_work_are_refused(values: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_mapping(values)


def test_single_sign_on_allows_plain_http_on_loopback() -> None:
    # a local issuer, as the tests serve one
    local = {"AIDGRAPH_OIDC_ISSUER": "http://127.0.0.1:9000", "AIDGRAPH_OIDC_REDIRECT_URI": "http://127.0.0.1:8000/cb"}
    assert Settings.from_mapping(SSO | local).oidc_settings() is not None
