"""What every command runs with: the settings, and the store opened on demand and closed when the command ends."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import sqlalchemy as sa

from aidgraph.db import migrate
from aidgraph.settings import Settings

if TYPE_CHECKING:
    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
    """The `COMMAND` (or `ACTION`) choice of a parser, to which a command group adds its parsers."""


@dataclass
class CommandContext:
    settings: Settings
    # Injected by `main`, so that whoever runs a command in-process decides how engines are made.
    engine_factory: Callable[..., sa.Engine]
    _opened: list[sa.Engine] = field(default_factory=list)

    def store(self) -> sa.Engine:
        """The hub's store, migrated to the newest schema."""
        engine = self.engine_factory(self.settings.database_url)
        self._opened.append(engine)
        migrate(engine)
        return engine

    def close(self) -> None:
        # Tests run commands in-process: an engine left open would be collected later as unclosed.
        while self._opened:
            self._opened.pop().dispose()


Handler: TypeAlias = Callable[[argparse.Namespace, CommandContext], int]


def comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def fail(command: str, message: Any, code: int = 2) -> int:
    """Say on stderr why `aidgraph COMMAND` refused, and return its exit code."""
    print(f"aidgraph {command}: {message}", file=sys.stderr)
    return code
