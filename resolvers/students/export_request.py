"""What a students export asks for (region, term, format, stage): its defaults and its messages, for both ways in.

`aidgraph students export` and `GET /students/export` read their arguments through `export_request`,
so the two take the same defaults and refuse the same input in the same words: a missing argument is
named as missing (`region: missing`), a wrong one says what it is not.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.vocabulary import Stage
from resolvers.rules.regions import Region
from resolvers.rules.terms import term_start
from resolvers.students.export import FORMATS

DEFAULT_FORMAT = "csv"
"""Without a format, CSV: what a person opens, and what the student-aid system's import takes too."""
STAGES = tuple(Stage.__members__)


class ExportRequestError(ValueError):
    """Arguments an export cannot run with; the message names each, as `name: what is wrong`."""


@dataclass(frozen=True, kw_only=True)
class ExportRequest:
    region: str
    """The region's prefix (`350500` asked is `3505`)."""
    term: str
    format: str
    stage: str | None

    @property
    def filename(self) -> str:
        return f"eligible-students-{self.region}-{self.term}.{self.format}"


def export_request(
    *, region: str | None, term: str | None, format_name: str | None = None, stage: str | None = None
) -> ExportRequest:
    """The export asked for, with its defaults; every problem at once (`ExportRequestError`) otherwise.

    An argument that is absent or empty is missing: an HTTP form sends an empty field for a blank one.
    """
    problems: list[str] = []
    prefix = None
    if not region:
        problems.append("region: missing")
    else:
        try:
            prefix = Region.parse(region).prefix
        except ValueError as error:
            problems.append(f"region: {error}")
    if not term:
        problems.append("term: missing")
    else:
        try:
            term_start(term)
        except ValueError as error:
            problems.append(f"term: {error}")
    chosen_format = format_name or DEFAULT_FORMAT
    if chosen_format not in FORMATS:
        problems.append(f"format: {chosen_format!r} is not one of {', '.join(FORMATS)}")
    if stage and stage not in STAGES:
        problems.append(f"stage: {stage!r} is not one of {', '.join(STAGES)}")
    if problems or prefix is None or term is None:
        raise ExportRequestError("; ".join(problems))
    return ExportRequest(region=prefix, term=term, format=chosen_format, stage=stage or None)
