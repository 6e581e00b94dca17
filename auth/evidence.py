"""Which governed field each column of a finding's evidence comes from, so its value is shown as that field is.

A comparison item or an alert keeps its evidence as department records: `{department, table, recordKey,
values: {<store column>: value}}` (casework.tables). Those values are the department's own data, so they
leave the hub under the policy of the field each column is shown as on its record type: an HIV code in
a settlement's `diagnosis_code` is withheld (or masked) exactly as `SettlementRecord.diagnosisCode` is,
a minor's id in `id_number` as the record's `idNumber`. The values go through `Access.present_apart`,
the same `Access.apply` every record type is built through: there is no second presenter.

A record type's fields are its stored columns in camelCase (schema.records.build copies them by name),
so a table's type is the one of its department whose fields hold every column of the table. A column
with no field (a table no type presents, such as the dibao standards, or a value that is no column)
has no rule that could let it out: it is withheld, like anything the policy does not grant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from adapters import idnumber
from adapters.catalog import DEPARTMENTS
from auth.access import Access
from resolvers.rules.special import is_minor


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


@cache
def _record_types() -> Mapping[tuple[str, str], str]:
    """(department, table) -> the record type that presents the table's rows."""
    found: dict[tuple[str, str], str] = {}
    for department in DEPARTMENTS.values():
        for spec in department.files:
            columns = {column.name for column in spec.columns}
            for type_name, fields in department.labels.records.items():
                if columns <= {_snake(name) for name in fields}:
                    found[(department.name, spec.name)] = type_name
                    break
    return found


def record_type(department: str, table: str) -> str | None:
    """The governed type whose fields present the rows of `department`'s `table`, or None."""
    return _record_types().get((department, table))


WITHHELD_TYPE = "Evidence"
"""Where a column no record type presents is reported withheld: the evidence's own `values`."""


def present_values(
    access: Access,
    department: str,
    table: str,
    values: Mapping[str, Any],
    *,
    subject_id: str | None,
    path: str,
) -> dict[str, Any]:
    """The evidence values as the caller may see them: each column under its field's rule, the rest withheld.

    `subject_id`: the resident the finding is about, for the special test of a record without an id
    column (a minor's identity can be in a record key or a certificate number)."""
    type_name = record_type(department, table)
    governed = access.view.types.get(type_name) if type_name is not None else None
    if governed is None:
        if values:
            access.presented.setdefault(f"{WITHHELD_TYPE}.values", set()).add("withheld")
            access.presented_paths.setdefault(f"{WITHHELD_TYPE}.values", path)
        return dict.fromkeys(values)
    assert type_name is not None
    fields = {_snake(name) for name in governed.outcome}
    shown = {column: value for column, value in values.items() if column in fields}
    record = {"id_number": subject_id, **values}  # the special tests read stored columns
    access.present_apart(type_name, shown, record, path=path)
    unknown = [column for column in values if column not in fields]
    if unknown:
        access.presented.setdefault(f"{WITHHELD_TYPE}.values", set()).add("withheld")
        access.presented_paths.setdefault(f"{WITHHELD_TYPE}.values", path)
    return {column: shown.get(column) for column in values}


def present_evidence(
    access: Access, stored: Sequence[Mapping[str, Any]], *, subject_id: str | None, path: str
) -> list[dict[str, Any]]:
    """A finding's stored evidence as the caller may see it, record by record: the `Evidence` type's own
    fields (department, table, recordKey, values) under its rules, and each value under its field's. The
    one presenter of evidence, for GraphQL answers and webhook payloads alike."""
    shown = []
    for entry in stored:
        stored_values = entry.get("values") or {}
        whose = _resident(access, entry.get("recordKey"), stored_values.get("id_number"), subject_id)
        values = present_values(
            access,
            str(entry.get("department")),
            str(entry.get("table")),
            stored_values,
            subject_id=whose,
            path=f"{path}.values",
        )
        fields: dict[str, Any] = {
            "department": entry.get("department"),
            "table": entry.get("table"),
            "record_key": entry.get("recordKey"),
            "values": values,
        }
        access.apply(WITHHELD_TYPE, fields, {"id_number": whose})
        shown.append(fields)
    return shown


def _resident(access: Access, record_key: Any, *named: Any) -> str | None:
    """Whose record it is, for the special tests: the id its values or its finding name, and every id its key
    holds (a child-welfare key is the child's id, a certificate number the id and two digits). A minor
    among them decides, so that a key cannot carry a minor's id past the test that masks it."""
    found = [text for text in named if isinstance(text, str) and text]
    for part in str(record_key or "").split("|"):
        try:
            found.append(idnumber.normalize(part[:18]))
        except idnumber.InvalidIdNumber:
            continue
    minors = [text for text in found if is_minor(text, access.today)]
    chosen = minors or found
    return chosen[0] if chosen else None


DEPARTMENTS.follow(_record_types.cache_clear)  # a department registered later (a test's) presents its tables too
