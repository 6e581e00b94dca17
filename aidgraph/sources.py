"""The sources file (AIDGRAPH_SOURCES): departments read live from their own databases."""

from __future__ import annotations

from pathlib import Path

import yaml

from adapters.catalog import department
from adapters.sources import DatabaseSource, LiveSource
from aidgraph.db import create_engine


class SourcesFileError(ValueError):
    pass


def load_live_sources(path: Path | None) -> dict[str, LiveSource]:
    """Parse a file such as

        departments:
          medical: {url: "postgresql://reader@db.medical.example/medical", timeout_seconds: 3}

    Departments not named here are served from the hub's store (what `aidgraph ingest` imported).
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
    for name, entry in entries.items():
        try:
            spec = department(name)
        except KeyError as error:
            raise SourcesFileError(f"{path}: {error.args[0]}") from None
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise SourcesFileError(f"{path}: departments.{name} needs a 'url' (a SQLAlchemy database URL)")
        timeout = float(entry.get("timeout_seconds", 5))
        engine = create_engine(entry["url"], pool_pre_ping=True)
        live[name] = DatabaseSource(spec, engine, timeout=timeout)
    return live
