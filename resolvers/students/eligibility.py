"""Issue 4, proactive identification: students enrolled in a term who qualify for aid, and every reason why.

Computed in SQL, the same Core statements on SQLite and PostgreSQL. A page is one statement: a CTE
finds the first `limit` students after the cursor, in id order, for whom at least one reason holds
on the term's start date (a few index probes per student walked; `page_statement` says how the
walk depends on the region); then a UNION ALL of one SELECT per reason joins that page to the
reason's table, giving one row per (student, reason, source record). Every reason is declared once
(`_sources`) and used in both places, so the filter and the list cannot disagree. A count tests the
same reasons as EXISTS; the whole list is one statement of hash joins, read in batches. The rules
other features share (regions, terms, dibao coverage, the income assessment) come from
resolvers/rules/. docs/students.md has the plans and timings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import sqlalchemy as sa

from adapters import civil_affairs, disability, education, poverty, registry
from adapters import vocabulary as v
from adapters.base import FileSpec
from resolvers.rules import dibao as dibao_rule
from resolvers.rules import income
from resolvers.rules import poverty as poverty_rule
from resolvers.rules.periods import in_force_sql
from resolvers.rules.regions import COUNTY, Region, in_regions
from resolvers.rules.terms import term_start

__all__ = [
    "EligibleStudent",
    "Reason",
    "count_eligible",
    "count_statement",
    "eligible_page",
    "iter_eligible",
    "list_statement",
    "page_statement",
    "reason_sources",
    "term_start",
]


@dataclass(frozen=True)
class Reason:
    code: str  # DIBAO, EXTREME_POVERTY, CHILD_WELFARE, DISABILITY, REGISTERED_POOR, MONITORED, LOW_INCOME
    department: str
    table: str  # the FileSpec name, e.g. "dibao"
    record_key: str
    as_of: dt.datetime  # UTC-aware


@dataclass(frozen=True)
class EligibleStudent:
    id_number: str
    name: str | None  # the registry's, as stored: for the export, which shows it under the policy
    household_number: str
    region_code: str
    stage: str
    school_code: str
    school_name: str | None
    grade: int | None
    enrolment_key: str
    enrolment_as_of: dt.datetime
    reasons: tuple[Reason, ...]  # ordered by code, then record_key
    aid_granted: bool  # a student-aid record for the same term exists


_enrolment = education.ENROLMENT.table
_aid = education.STUDENT_AID.table
_persons = registry.PERSONS.table
_households = registry.HOUSEHOLDS.table


class _Student(NamedTuple):
    """The student columns a reason is judged by: the enrolment walk's, or the page's."""

    id_number: sa.ColumnElement[Any]
    household_number: sa.ColumnElement[Any]


class _Source(NamedTuple):
    code: str
    spec: FileSpec
    record: sa.FromClause  # the table (or alias) whose row is the source record
    holds: sa.ColumnElement[bool]  # the whole rule; its FROM list is inferred from the columns it names
    also: tuple[sa.FromClause, ...] = ()  # the other tables `holds` reads rows of (not scalar subqueries)


def _value(value: Any, type_: sa.types.TypeEngine[Any] | None = None) -> sa.BindParameter[Any]:
    # Rendered into the SQL text at execution (still one cached compilation). PostgreSQL then plans
    # with the real values: the store's engine forces generic plans, and a generic plan can neither
    # serve `region_code LIKE $1` from the index nor judge how much of the city a prefix selects.
    return sa.literal(value, type_, literal_execute=True)


def _number(value: int) -> sa.ColumnElement[Any]:
    return sa.literal_column(str(int(value)), sa.Integer())


Tables = Callable[[FileSpec], sa.FromClause]
"""Where a reason reads a department's file: its current table, or its snapshot on a day (adapters.as_of)."""


def _current(spec: FileSpec) -> sa.FromClause:
    return spec.table


def _sources(student: _Student, day: sa.BindParameter[Any], tables: Tables = _current) -> list[_Source]:
    """Every reason of DESIGN §4 (student aid), as a condition on the student's columns on day D."""
    dibao = tables(civil_affairs.DIBAO)
    tekun = tables(civil_affairs.EXTREME_POVERTY)
    child = tables(civil_affairs.CHILD_WELFARE)
    certificate = tables(disability.CERTIFICATE)
    poor = tables(poverty.REGISTERED_POOR)
    monitored = tables(poverty.MONITORED)
    check = tables(civil_affairs.ECONOMIC_CHECK)
    assessed = tables(registry.HOUSEHOLDS).alias("assessed_household")

    # The standard is looked up through the checked household itself, not the student's columns: the
    # student is then named only by household number, so PostgreSQL may answer the EXISTS from one
    # hashed set of households.
    local_standard = income.standard_sql(
        tables(civil_affairs.DIBAO_STANDARD), household=assessed, checked_on=check.c.checked_on
    )

    return [
        # Two sources for one reason, one per way an award covers a person (each served by its index).
        *(
            _Source(
                "DIBAO",
                civil_affairs.DIBAO,
                dibao,
                dibao_rule.covered_on_sql(dibao, way=way, person=getattr(student, way.shared), day=day),
            )
            for way in dibao_rule.WAYS
        ),
        _Source(
            "EXTREME_POVERTY",
            civil_affairs.EXTREME_POVERTY,
            tekun,
            sa.and_(
                tekun.c.id_number == student.id_number, in_force_sql(tekun.c.start_date, tekun.c.end_date, day=day)
            ),
        ),
        _Source(
            "CHILD_WELFARE",
            civil_affairs.CHILD_WELFARE,
            child,
            sa.and_(
                child.c.id_number == student.id_number, in_force_sql(child.c.start_date, child.c.end_date, day=day)
            ),
        ),
        _Source(
            "DISABILITY",
            disability.CERTIFICATE,
            certificate,
            sa.and_(
                certificate.c.id_number == student.id_number,
                sa.or_(certificate.c.issued_on.is_(None), certificate.c.issued_on <= day),
                sa.or_(certificate.c.valid_until.is_(None), certificate.c.valid_until >= day),
            ),
        ),
        _Source(
            "REGISTERED_POOR",
            poverty.REGISTERED_POOR,
            poor,
            poverty_rule.registered_poor_on_sql(poor, household_number=student.household_number, year=_year_of(day)),
        ),
        _Source(
            "MONITORED",
            poverty.MONITORED,
            monitored,
            poverty_rule.monitored_on_sql(monitored, household_number=student.household_number, day=day),
        ),
        _Source(
            "LOW_INCOME",
            civil_affairs.ECONOMIC_CHECK,
            check,
            sa.and_(
                check.c.household_number == student.household_number,
                income.latest_check_sql(check, day=day),
                assessed.c.household_number == check.c.household_number,
                income.below_twice_standard_sql(check, standard=local_standard),
            ),
            also=(assessed,),
        ),
    ]


class ReasonSource(NamedTuple):
    """One reason's source records for a student, as another rule reads them (the comparison's C3)."""

    code: str
    spec: FileSpec
    record: sa.FromClause
    holds: sa.ColumnElement[bool]


def reason_sources(
    codes: Sequence[str],
    *,
    id_number: sa.ColumnElement[Any],
    household_number: sa.ColumnElement[Any],
    day: dt.date,
    tables: Tables,
) -> list[ReasonSource]:
    """The reasons named by `codes`, as conditions on a student's columns on `day`, reading `tables`:
    the same definitions as the eligible list's, not a copy of them."""
    found = _sources(_Student(id_number, household_number), _value(day, sa.Date()), tables)
    unknown = set(codes) - {source.code for source in found}
    if unknown:
        raise ValueError(f"unknown student-aid reasons {sorted(unknown)}")
    return [ReasonSource(s.code, s.spec, s.record, s.holds) for s in found if s.code in codes]


def _year_of(day: sa.BindParameter[Any]) -> sa.BindParameter[Any]:
    assert isinstance(day.value, dt.date)
    return _value(day.value.year, sa.Integer())


def _in_region(regions: Sequence[str]) -> sa.ColumnElement[bool]:
    # Rendered into the text (see `_value`); a prefix that is not digits is refused, not read as a pattern.
    return in_regions(_households.c.region_code, [Region(region) for region in regions], inline=True)


_Test = Literal["probe", "exists"]


def _holds_any(sources: list[_Source], *, probe: bool) -> sa.ColumnElement[bool]:
    """Whether at least one reason holds for the student of the enclosing row.

    As EXISTS (a count), PostgreSQL may hash each reason's whole table once: right when every
    student of the region is tested. A page stops after `limit` students, and would pay for every row
    of every reason table first (again for every page): it asks scalar subqueries instead, which are
    never hashed, so each student walked costs a few index probes whatever the size of the tables.
    COALESCE stops at the first reason found, like OR; PostgreSQL guesses `> 0` on it true for a
    third of the rows, a plausible share of students (IS NOT NULL: for 99.5%, and then expects any
    walk in id order to fill the page at once).
    """
    if not probe:
        return sa.or_(*(sa.exists().where(source.holds) for source in sources))
    found = (sa.select(_number(1)).where(s.holds).limit(_value(1, sa.Integer())).scalar_subquery() for s in sources)
    return sa.func.coalesce(*found) > _number(0)


def _eligible(
    *, term: str, regions: Sequence[str], stage: str | None, after: str | None, reasons: _Test | None
) -> sa.Select[Any]:
    """Enrolled students of the term in the regions with at least one reason, tested as `reasons`
    says (None: every student, with or without), in id order (no limit)."""
    day = _value(term_start(term), sa.Date())
    term_value = _value(term, sa.String())
    enrolled = _value(v.EnrolmentStatus.ENROLLED.name)
    # Two enrolled rows for one student in one term are a data error; the one with the lowest
    # record key (id|term|school code: the lowest school code) is kept, so every page, count and
    # export picks the same one and the student is listed once.
    other = _enrolment.alias("other_enrolment")
    first_enrolment = ~sa.exists().where(
        other.c.id_number == _enrolment.c.id_number,
        other.c.term == _enrolment.c.term,
        other.c.status == enrolled,
        other.c.record_key < _enrolment.c.record_key,
    )
    # The household's own column, not the person's: the reasons then need the household joined, so
    # PostgreSQL tests them after the cheap region filter rather than for every enrolment first.
    student = _Student(_enrolment.c.id_number, _households.c.household_number)
    query = (
        sa.select(
            _enrolment.c.id_number,
            _persons.c.name,
            _persons.c.household_number,
            _households.c.region_code,
            _enrolment.c.stage,
            _enrolment.c.school_code,
            _enrolment.c.school_name,
            _enrolment.c.grade,
            _enrolment.c.record_key.label("enrolment_key"),
            _enrolment.c.as_of.label("enrolment_as_of"),
        )
        .select_from(
            _enrolment.join(_persons, _persons.c.id_number == _enrolment.c.id_number).join(
                _households, _households.c.household_number == _persons.c.household_number
            )
        )
        .where(
            _enrolment.c.term == term_value,
            _enrolment.c.status == enrolled,
            first_enrolment,
            _in_region(regions),
        )
    )
    if reasons is not None:
        query = query.where(_holds_any(_sources(student, day), probe=reasons == "probe"))
    if stage is not None:
        if stage not in v.Stage.__members__:
            raise ValueError(f"stage {stage!r} is not one of {', '.join(v.Stage.__members__)}")
        query = query.where(_enrolment.c.stage == _value(stage, sa.String()))
    if after is not None:
        query = query.where(_enrolment.c.id_number > _value(after, sa.String()))
    return query


def page_statement(
    *,
    term: str,
    regions: Sequence[str],
    stage: str | None = None,
    after: str | None = None,
    limit: int,
    lateral: bool = False,
) -> sa.CompoundSelect[Any]:
    """The one statement of a page: one row per (student, reason), in id, code, record-key order.

    The page of students is a CTE (computed once); each reason's SELECT joins it to that reason's
    table, carrying the student's columns along, so nothing joins back to the page afterwards.
    `lateral` (PostgreSQL; SQLite has no LATERAL): each reason's records are looked up per student of
    the page, by index, where PostgreSQL would otherwise hash every reason's whole table for a page
    of a hundred (two thirds of a city page's time at a million persons).

    How the page is found depends on the region. An id starts with the code of the county that
    issued it, mostly the county a person lives in: in id order a county's students sit together,
    not spread evenly as the planner assumes, and a walk in id order would pass every other
    county's students before the first of them. For a county or less, the region's students are
    therefore read first and walked in id order (cost grows with the region); for a city or more,
    the term's enrolments are walked in id order, the region and the reasons probed for each
    (cost grows with the page).
    """
    size = _value(limit, sa.Integer())
    if all(len(region) >= COUNTY for region in regions):
        everyone = _eligible(term=term, regions=regions, stage=stage, after=after, reasons=None)
        local = everyone.cte("local_student").prefix_with("MATERIALIZED")
        # OFFSET 0 keeps the sorted students a subquery of their own: the probes below then run on
        # them in order and stop with the page, instead of on every student before the sort.
        walk = sa.select(local).order_by(local.c.id_number).offset(_value(0, sa.Integer())).subquery("walk")
        day = _value(term_start(term), sa.Date())
        reasons = _holds_any(_sources(_Student(walk.c.id_number, walk.c.household_number), day), probe=True)
        page = sa.select(walk).where(reasons).add_columns(_aid_granted(walk.c.id_number, term))
        page = page.order_by(walk.c.id_number).limit(size)
    else:
        page = _eligible(term=term, regions=regions, stage=stage, after=after, reasons="probe")
        page = page.add_columns(_aid_granted(_enrolment.c.id_number, term))
        page = page.order_by(_enrolment.c.id_number).limit(size)
    return _reason_rows(page.cte("page"), term, lateral=lateral)


@functools.lru_cache(maxsize=256)
def _page_statement(
    term: str, regions: tuple[str, ...], stage: str | None, after: str | None, limit: int, lateral: bool
) -> sa.CompoundSelect[Any]:
    # Building the statement costs about as much Python as running it; a first page asks the same one
    # again and again (every value is in it, so equal arguments make an equal statement).
    return page_statement(term=term, regions=regions, stage=stage, after=after, limit=limit, lateral=lateral)


def list_statement(*, term: str, regions: Sequence[str], stage: str | None = None) -> sa.CompoundSelect[Any]:
    """The whole list in one statement, rows as a page's: every enrolled student of the regions joined
    to every reason's table (a student with no reason has no row), for hash joins over the region."""
    students = _eligible(term=term, regions=regions, stage=stage, after=None, reasons=None)
    students = students.add_columns(_aid_granted(_enrolment.c.id_number, term))
    return _reason_rows(students.cte("student"), term)


def _aid_granted(id_number: sa.ColumnElement[Any], term: str) -> sa.ColumnElement[Any]:
    # Once per student, beside its other columns, rather than once per reason row.
    return (
        sa.exists().where(_aid.c.id_number == id_number, _aid.c.term == _value(term, sa.String())).label("aid_granted")
    )


def _reason_rows(students: sa.CTE, term: str, *, lateral: bool = False) -> sa.CompoundSelect[Any]:
    day = _value(term_start(term), sa.Date())
    student = _Student(students.c.id_number, students.c.household_number)
    branches = []
    for number, source in enumerate(_sources(student, day)):
        named = (
            sa.literal_column(f"'{source.code}'", sa.String()).label("code"),
            sa.literal_column(f"'{source.spec.department}'", sa.String()).label("department"),
            sa.literal_column(f"'{source.spec.name}'", sa.String()).label("source_table"),
        )
        record = (source.record.c.record_key.label("source_key"), source.record.c.as_of.label("source_as_of"))
        if not lateral:
            branches.append(sa.select(students, *named, *record).where(source.holds))
            continue
        # The reason's own tables joined ON true (the WHERE joins them): SQLAlchemy's FROM linter does not
        # see the conditions between them inside a correlated LATERAL, and calls a list of them a
        # cartesian product. OFFSET 0: a subquery PostgreSQL may not pull up into a join, so it probes
        # the reason's indexes per student.
        own = functools.reduce(lambda left, right: left.join(right, sa.true()), source.also, source.record)
        inner = sa.select(*record).select_from(own).where(source.holds)
        found = inner.offset(_value(0, sa.Integer())).lateral(f"found_{number}")
        branches.append(
            sa.select(students, *named, found.c.source_key, found.c.source_as_of).select_from(
                students.join(found, sa.true())
            )
        )
    rows = sa.union_all(*branches)
    return rows.order_by(rows.selected_columns.id_number, rows.selected_columns.code, rows.selected_columns.source_key)


def eligible_page(
    connection: sa.Connection,
    *,
    term: str,
    regions: Sequence[str],
    stage: str | None = None,
    after: str | None = None,
    limit: int,
) -> list[EligibleStudent]:
    """Up to `limit` eligible students with ids after `after`, in id order: one SQL statement."""
    if limit < 0:
        raise ValueError(f"limit must not be negative, not {limit}")
    lateral = connection.dialect.name == "postgresql"
    statement = _page_statement(term, tuple(regions), stage, after, limit, lateral)
    if limit == 0:
        return []
    rows = connection.execute(statement)
    return [_student(list(group)) for _id, group in itertools.groupby(rows, key=lambda row: row.id_number)]


def count_statement(*, term: str, regions: Sequence[str], stage: str | None = None) -> sa.Select[Any]:
    """The count of eligible students, as one row with one column, `eligible`."""
    query = _eligible(term=term, regions=regions, stage=stage, after=None, reasons="exists").subquery()
    return sa.select(sa.func.count().label("eligible")).select_from(query)


def count_eligible(connection: sa.Connection, *, term: str, regions: Sequence[str], stage: str | None = None) -> int:
    """A recount; `resolvers.students.counts.eligible_count` keeps it until the store's data changes."""
    return int(connection.execute(count_statement(term=term, regions=regions, stage=stage)).scalar_one())


def iter_eligible(
    connection: sa.Connection, *, term: str, regions: Sequence[str], stage: str | None = None, batch: int = 2000
) -> Iterator[EligibleStudent]:
    """The whole list in id order, in constant memory, read `batch` rows at a time.

    One statement (`list_statement`), not keyset pages: over a whole region, hash joins meet every
    student once, where a walk of pages probes every reason's index for every student (3x slower
    on a city of a million persons, against 25 ms for a page of 50).
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, not {batch}")
    rows = _stream(connection, list_statement(term=term, regions=regions, stage=stage), batch)
    for _id, group in itertools.groupby(rows, key=lambda row: row.id_number):
        yield _student(list(group))


def _stream(connection: sa.Connection, statement: sa.CompoundSelect[Any], batch: int) -> Iterator[Any]:
    if connection.dialect.name != "postgresql":
        # SQLite's cursor is read lazily: `batch` rows at a time.
        yield from connection.execute(statement, execution_options={"yield_per": batch})
        return
    # A server-side cursor, WITH HOLD so that it also works in autocommit (an export reads names and
    # writes audit events on the same connection between batches), as well as inside a transaction.
    name = f"eligible_{uuid.uuid4().hex}"
    sql = str(statement.compile(connection, compile_kwargs={"render_postcompile": True}))
    connection.exec_driver_sql(f"DECLARE {name} NO SCROLL CURSOR WITH HOLD FOR {sql}")
    try:
        while rows := connection.exec_driver_sql(f"FETCH FORWARD {int(batch)} FROM {name}").all():
            yield from rows
    finally:
        # Also when the reader stops early; after a failed transaction the cursor is gone anyway.
        with contextlib.suppress(sa.exc.DBAPIError):
            connection.exec_driver_sql(f"CLOSE {name}")


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back the stored UTC time without its zone; PostgreSQL in the session's zone.
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _student(rows: list[Any]) -> EligibleStudent:
    first = rows[0]
    return EligibleStudent(
        id_number=first.id_number,
        name=first.name,
        household_number=first.household_number,
        region_code=first.region_code,
        stage=first.stage,
        school_code=first.school_code,
        school_name=first.school_name,
        grade=first.grade,
        enrolment_key=first.enrolment_key,
        enrolment_as_of=_utc(first.enrolment_as_of),
        reasons=tuple(
            Reason(row.code, row.department, row.source_table, row.source_key, _utc(row.source_as_of)) for row in rows
        ),
        aid_granted=bool(first.aid_granted),
    )
