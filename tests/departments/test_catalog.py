"""Every department of the catalog has what adding one takes (docs/architecture.md, "A department").

Its module in adapters/ with its files and labels, its line in the catalog, its tables in a migrated
store, its module in schema/ with its types and parts, its line in schema/parts.py: each is checked
here for every department, so a department missing one of them fails by name.
"""

from __future__ import annotations

import importlib

import pytest
import sqlalchemy as sa
from graphql import GraphQLObjectType, get_named_type

import schema
from adapters.catalog import DEPARTMENTS
from auth.labels import SPECIAL
from schema.parts import PARTS

POPULATION = "registry"  # Person and Household themselves: the department every other one hangs off
_GRAPHQL = schema.create_schema()._schema


def _object_type(name: str) -> GraphQLObjectType:
    kind = _GRAPHQL.type_map.get(name)
    assert isinstance(kind, GraphQLObjectType), f"{name} is not an object type of the schema"
    return kind


@pytest.mark.parametrize("name", list(DEPARTMENTS))
def test_its_adapter_module_declares_it_with_labels_for_types_the_schema_has(name: str) -> None:
    # given the department's module in adapters/
    department = importlib.import_module(f"adapters.{name}").DEPARTMENT
    # then it is the catalog's, under its own name
    assert DEPARTMENTS[name] is department and department.name == name
    # and its labels name each field of its record types, no more and no fewer (the other departments'
    # fields on Person and Household are theirs to label)
    assert department.labels.records, f"{name} labels no record type"
    for type_name, labels in department.labels.records.items():
        others = {other.field_name for other in DEPARTMENTS.values() if type_name in other.labels.part_types}
        assert set(labels) == set(_object_type(type_name).fields) - others, f"{name}: {type_name}'s labels differ"


@pytest.mark.parametrize("name", [name for name in DEPARTMENTS if name != POPULATION])
def test_its_schema_module_registers_its_parts_under_its_name_on_the_holders_its_labels_name(name: str) -> None:
    # given the department's module in schema/ and its line in schema/parts.py
    parts = importlib.import_module(f"schema.{name}").PARTS
    assert PARTS[name] is parts
    # then its parts hang off the holders its labels name, each under a field named after it, of its part type
    labels = DEPARTMENTS[name].labels
    assert {part.holder: part.type.__name__ for part in parts} == labels.part_types
    for holder, part_type in labels.part_types.items():
        field = _object_type(holder).fields.get(DEPARTMENTS[name].field_name)
        assert field is not None, f"{holder} has no field {DEPARTMENTS[name].field_name}"
        assert get_named_type(field.type).name == part_type


def test_every_registered_part_belongs_to_a_department_of_the_catalog() -> None:
    assert set(PARTS) == set(DEPARTMENTS) - {POPULATION}


@pytest.mark.parametrize("name", list(DEPARTMENTS))
def test_its_fields_that_can_hold_special_values_are_tested_on_columns_it_stores(name: str) -> None:
    # given the columns the department stores
    department = DEPARTMENTS[name]
    stored = {column.name for spec in department.files for column in spec.columns}
    # then every special test on its types reads one of them (a test of a column it lacks would never fire)
    for type_name in department.labels.records:
        for field_name, (_kind, column) in SPECIAL.get(type_name, {}).items():
            assert column in stored, f"{type_name}.{field_name} is tested on {column}, which {name} does not store"


def test_the_migrations_build_every_departments_tables(engine: sa.Engine) -> None:
    # given a store built by the migrations (the fixture ran `upgrade head`)
    inspector = sa.inspect(engine)
    for name, department in DEPARTMENTS.items():
        for spec in department.files:
            # then each of the department's files has its table, with a column for each of its columns
            assert inspector.has_table(spec.table_name), f"{name}/{spec.name}: no table {spec.table_name}"
            columns = {column["name"] for column in inspector.get_columns(spec.table_name)}
            assert {column.name for column in spec.columns} <= columns, f"{name}/{spec.name}"
