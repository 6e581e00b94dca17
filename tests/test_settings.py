"""Settings come from an injected mapping; the default needs none, and a password never prints."""

from __future__ import annotations

from pathlib import Path

from aidgraph.settings import DEFAULT_DATABASE_URL, Settings


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
