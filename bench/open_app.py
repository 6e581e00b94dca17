"""The open baseline of the household benchmark: the same hub without tokens, policy or audit.

Only the benchmark imports this (`uvicorn open_app:app --factory --app-dir bench`); nothing in the
hub's command line or environment can serve it.
"""

from __future__ import annotations

from starlette.applications import Starlette

from aidgraph.app import create_app
from aidgraph.settings import Settings


def app() -> Starlette:
    return create_app(Settings.from_environment(), open_access=True)
