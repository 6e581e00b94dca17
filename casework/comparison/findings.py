"""A rule's findings as the ledger keeps them: one per (subject, programme), with its evidence and fingerprint.

The rule's statement gives one row per (finding, evidence record); the values of the evidence records
are then read from the same day's snapshots, one statement per evidence table and batch of keys.
Evidence (docs/comparison.md, the shape every part of the hub shares):

    [{"department": "civil_affairs", "table": "dibao", "recordKey": "...", "values": {column: value}}]

`values` holds the record's columns under the store's names (dates ISO, decimals as strings), so the
GraphQL layer can present each under the policy of the field it comes from. The fingerprint is the
SHA-256 of the canonical JSON (sorted keys) of the evidence sorted by (department, table, recordKey).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from adapters.catalog import DEPARTMENTS
from casework.comparison.conditions import Scope
from casework.comparison.rules import Rule

VALUE_BATCH = 2000
Evidence = list[dict[str, Any]]


@dataclass
class Finding:
    subject: str
    programme: str
    household_number: str
    id_number: str | None
    region_code: str
    sources: list[tuple[str, str, str]]  # (department, table, record key), each once
    evidence: Evidence | None = None
    fingerprint: str = ""


def find(connection: sa.Connection, rule: Rule, scope: Scope) -> dict[tuple[str, str], Finding]:
    """Every finding of `rule` over `scope`, keyed by (subject, programme), with its evidence."""
    rows = connection.execute(rule.build(scope))
    found: dict[tuple[str, str], Finding] = {}
    for (subject, programme), group in itertools.groupby(rows, key=lambda row: (row.subject, row.programme)):
        first, *rest = list(group)
        sources = list(dict.fromkeys((row.department, row.source_table, row.record_key) for row in (first, *rest)))
        found[(subject, programme)] = Finding(
            subject, programme, first.household_number, first.id_number, first.region_code, sources
        )
    _attach_values(connection, scope, found.values())
    return found


def _attach_values(connection: sa.Connection, scope: Scope, found: Iterable[Finding]) -> None:
    findings = list(found)
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for finding in findings:
        for department, table, key in finding.sources:
            wanted[(department, table)].add(key)
    values: dict[tuple[str, str, str], dict[str, Any]] = {}
    for (department, table), keys in wanted.items():
        spec = DEPARTMENTS[department].file(table)
        source = scope(spec)
        names = [column.name for column in spec.columns]
        ordered = sorted(keys)
        for start in range(0, len(ordered), VALUE_BATCH):
            batch = ordered[start : start + VALUE_BATCH]
            query = sa.select(source.c.record_key, *(source.c[name] for name in names)).where(
                source.c.record_key.in_(batch)
            )
            for row in connection.execute(query):
                values[(department, table, row.record_key)] = {name: json_value(row._mapping[name]) for name in names}
    for finding in findings:
        finding.evidence = sorted(
            (
                {"department": department, "table": table, "recordKey": key, "values": values[(department, table, key)]}
                for department, table, key in finding.sources
            ),
            key=_order,
        )
        finding.fingerprint = fingerprint(finding.evidence)


def _order(record: Mapping[str, Any]) -> tuple[str, str, str]:
    return (record["department"], record["table"], record["recordKey"])


def json_value(value: Any) -> Any:
    """A stored value as JSON: dates ISO, decimals as strings (exact, as the store holds them)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def fingerprint(evidence: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 hex of the canonical JSON of the evidence sorted by (department, table, recordKey)."""
    canonical = json.dumps(sorted(evidence, key=_order), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
