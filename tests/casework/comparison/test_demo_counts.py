"""The default demo's comparison finds exactly the items docs/comparison.md says, per rule and programme."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import sqlalchemy as sa

from casework.comparison import run as comparison
from casework.tables import comparison_item, comparison_run_item
from tools.demo.dates import TODAY

DOC = Path(__file__).resolve().parents[3] / "docs" / "comparison.md"
_ROW = re.compile(r"^\| (C\d) \| ([A-Z_]+) \| (\d+) \|$", re.MULTILINE)


def _documented() -> dict[tuple[str, str], int]:
    section = DOC.read_text(encoding="utf-8").split("## Expected counts on the default demo", 1)[1]
    return {(rule, programme): int(count) for rule, programme, count in _ROW.findall(section)}


def test_the_demo_city_run_finds_the_documented_items(writable_demo_engine: sa.Engine) -> None:
    # given the default demo, ingested as its files were exported (on the demo's day)
    documented = _documented()
    assert len(documented) == 9, "docs/comparison.md lists one row per rule and programme"
    # when the whole city is compared as of the demo's day
    result = comparison.run(writable_demo_engine, region="3505", by="test", as_of=TODAY, today=dt.date(2026, 12, 1))
    # then every rule was evaluated and found the documented items, programme by programme
    assert result.not_evaluated == {}
    link = comparison_run_item
    query = (
        sa.select(comparison_item.c.rule, comparison_item.c.programme, sa.func.count())
        .join(link, link.c.item_id == comparison_item.c.id)
        .where(link.c.run_id == result.run_id)
        .group_by(comparison_item.c.rule, comparison_item.c.programme)
    )
    with writable_demo_engine.connect() as connection:
        found = {(rule, programme): count for rule, programme, count in connection.execute(query)}
    assert found == documented
    assert sum(count for count in result.counts.values() if count is not None) == sum(documented.values())
