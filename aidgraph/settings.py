"""Settings of a hub, read from an injected mapping (the environment by default)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///aidgraph.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    sources_file: Path | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Settings:
        sources = values.get("AIDGRAPH_SOURCES")
        return cls(
            database_url=values.get("AIDGRAPH_DATABASE_URL") or DEFAULT_DATABASE_URL,
            sources_file=Path(sources) if sources else None,
        )

    @classmethod
    def from_environment(cls) -> Settings:
        return cls.from_mapping(os.environ)

    def __repr__(self) -> str:
        # A database URL may carry a password: never print it.
        return f"Settings(database_url={redact(self.database_url)!r}, sources_file={self.sources_file!r})"


def redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
