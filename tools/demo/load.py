"""Loading a generated demo into a hub's store, as `serve --demo` does: one department folder at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from adapters import registry
from adapters.catalog import DEPARTMENTS
from adapters.ingest import FileReport, ingest
from adapters.progress import Progress


@dataclass(frozen=True)
class DepartmentLoad:
    department: str
    folder: Path
    reports: list[FileReport] | None  # None: the demo has no folder for this department, so it was skipped


def persons_in_store(engine: sa.Engine) -> int:
    """The persons a store holds: the demo goes only into a store that holds none."""
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(registry.PERSONS.table)).scalar_one())


def ingest_demo(engine: sa.Engine, folder: Path) -> Iterator[DepartmentLoad]:
    """Ingest every catalogued department from `folder/<department>/` in one import, then yield each.

    A department with no folder there (one added to the catalog that the generator does not write
    yet) is skipped rather than failing the load (`allow_missing`): the others are still worth serving.
    """
    exports = [(department, folder / name) for name, department in DEPARTMENTS.items()]
    outcome = ingest(engine, exports, allow_missing=True, progress=Progress("demo ingest"))
    for report in outcome.departments:
        yield DepartmentLoad(report.department, report.folder, None if report.error else report.files)
