"""The sources file (AIDGRAPH_SOURCES): departments read live from their own databases or HTTP APIs."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from adapters import catalog
from adapters.base import Department
from adapters.http_source import HttpSource
from adapters.sources import DatabaseSource, LiveSource
from aidgraph.db import create_engine

MAX_TIMEOUT_SECONDS = 300.0
_KEYS = {
    "database": {"kind", "url", "timeout_seconds"},
    "http": {
        "kind",
        "base_url",
        "connect_timeout_seconds",
        "read_timeout_seconds",
        "token_env",
        "header",
        "header_env",
    },
}
# A secret written into the file would be read by whoever reads the file, and shown in its history.
_SECRETS = {"token", "bearer", "header_value", "api_key", "password", "secret"}


class SourcesFileError(ValueError):
    pass


def load_live_sources(path: Path | None, *, environment: Mapping[str, str] | None = None) -> dict[str, LiveSource]:
    """Parse a file such as

        departments:
          medical: {url: "postgresql://reader@db.medical.example/medical", timeout_seconds: 3}
          disability:
            kind: http
            base_url: "https://records.disability.example/v1"
            read_timeout_seconds: 3
            token_env: DISABILITY_API_TOKEN     # sent as `Authorization: Bearer …`

    Departments not named here are served from the hub's store (what `aidgraph ingest` imported).
    Secrets come from the environment (`environment`, the process's by default), named in the file.
    """
    if path is None:
        return {}
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise SourcesFileError(f"{path}: cannot read the sources file: {error}") from None
    entries = document.get("departments") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise SourcesFileError(f"{path}: expected a mapping under 'departments'")
    live: dict[str, LiveSource] = {}
    try:
        for name, entry in entries.items():
            live[name] = _source(
                f"{path}: departments.{name}", name, entry, os.environ if environment is None else environment
            )
    except SourcesFileError:
        for source in live.values():
            source.dispose()
        raise
    return live


def _source(where: str, name: str, entry: object, environment: Mapping[str, str]) -> LiveSource:
    try:
        served = catalog.department(name)
    except KeyError as error:
        raise SourcesFileError(f"{where}: {error.args[0]}") from None
    if not isinstance(entry, dict):
        raise SourcesFileError(f"{where}: expected a mapping (url: ..., or kind: http and base_url: ...)")
    kind = entry.get("kind", "database")
    if kind not in _KEYS:
        raise SourcesFileError(f"{where}: kind must be database or http, not {kind!r}")
    secrets = sorted(_SECRETS & set(entry))
    if secrets:
        raise SourcesFileError(
            f"{where}: {', '.join(secrets)} would put a secret in the file; name an environment variable"
            " with token_env (or header and header_env) instead"
        )
    unknown = sorted(set(entry) - _KEYS[kind])
    if unknown:
        raise SourcesFileError(f"{where}: unknown keys {', '.join(unknown)} for kind {kind}")
    if kind == "http":
        return _http_source(where, served, entry, environment)
    if not isinstance(entry.get("url"), str):
        raise SourcesFileError(f"{where} needs a 'url' (a SQLAlchemy database URL)")
    timeout = _seconds(where, entry, "timeout_seconds", 5.0)
    return DatabaseSource(served, create_engine(entry["url"], pool_pre_ping=True), timeout=timeout)


def _http_source(where: str, served: Department, entry: dict[str, Any], environment: Mapping[str, str]) -> HttpSource:
    base_url = entry.get("base_url")
    if not isinstance(base_url, str):
        raise SourcesFileError(f"{where} needs a 'base_url' (where its tables' lookups are: BASE/TABLE/lookup)")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SourcesFileError(f"{where}: base_url must be an http(s) URL with a host and no query")
    if parts.username is not None or parts.password is not None:
        raise SourcesFileError(f"{where}: base_url must not hold credentials; name them with token_env")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise SourcesFileError(f"{where}: base_url must be https (plain http only on loopback)")
    return HttpSource(
        served,
        base_url,
        connect_timeout=_seconds(where, entry, "connect_timeout_seconds", 2.0),
        read_timeout=_seconds(where, entry, "read_timeout_seconds", 5.0),
        headers=_credentials(where, entry, environment),
    )


def _credentials(where: str, entry: dict[str, Any], environment: Mapping[str, str]) -> dict[str, str]:
    """The header that authenticates the hub to the department, its value read from the environment."""
    if "token_env" in entry and ("header" in entry or "header_env" in entry):
        raise SourcesFileError(f"{where}: token_env, or header with header_env, not both")
    if ("header" in entry) != ("header_env" in entry):
        raise SourcesFileError(f"{where}: header and header_env go together (the header's name, the variable)")
    variable = entry.get("token_env", entry.get("header_env"))
    if variable is None:
        return {}
    if not isinstance(variable, str) or not variable:
        raise SourcesFileError(f"{where}: token_env and header_env name an environment variable")
    value = environment.get(variable)
    if not value:
        raise SourcesFileError(f"{where}: the environment variable {variable} is not set")
    if "token_env" in entry:
        return {"Authorization": f"Bearer {value}"}
    header = entry["header"]
    if not isinstance(header, str) or not header.replace("-", "").isalnum():
        raise SourcesFileError(f"{where}: header must be a header name (letters, digits and -)")
    return {header: value}


def _seconds(where: str, entry: dict[str, Any], key: str, default: float) -> float:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_TIMEOUT_SECONDS:
        raise SourcesFileError(f"{where}: {key} must be a number of seconds above 0, at most {MAX_TIMEOUT_SECONDS:g}")
    return float(value)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
