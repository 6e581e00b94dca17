"""The default demo's warnings scan raises exactly the alerts docs/early-warning.md says, kind by kind."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import sqlalchemy as sa

from casework.tables import alert
from casework.warnings.rules import default_rules
from casework.warnings.scan import scan
from resolvers.rules.regions import Region
from tools.demo.dates import TODAY

DOC = Path(__file__).resolve().parents[3] / "docs" / "early-warning.md"
_ROW = re.compile(r"^\| ([A-Z_]+) \| (\d+) \|$", re.MULTILINE)


def _documented() -> dict[str, int]:
    section = DOC.read_text(encoding="utf-8").split("## Expected alerts on the default demo", 1)[1]
    return {kind: int(count) for kind, count in _ROW.findall(section.split("\n## ", 1)[0])}


def test_the_demo_city_scan_raises_the_documented_alerts(writable_demo_engine: sa.Engine) -> None:
    # given the default demo, ingested as its files were exported (on the demo's day)
    documented = _documented()
    assert len(documented) == 4, "docs/early-warning.md lists one row per kind"
    # when the whole city is scanned as of the demo's day
    now = dt.datetime.combine(TODAY, dt.time(9), dt.UTC)
    with writable_demo_engine.begin() as connection:
        scan(connection, regions=[Region("3505")], as_of=TODAY, now=now, rules=default_rules())
        found: dict[str, int] = dict(
            connection.execute(sa.select(alert.c.kind, sa.func.count()).group_by(alert.c.kind)).all()
        )
    # then each kind raised the documented number of alerts
    assert found == documented
