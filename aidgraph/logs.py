"""How a running hub writes its log: JSON lines (or plain text for a terminal), each with its request's fields.

Every line logged while a request is served carries that request's fields (auth/request_log.py: id,
client, operation, keyed document hash), whoever logged it. An exception attached to a record is
written by its types and frames only (`describe_exception`): its message may quote a statement's
values or the document, and a library logs what it likes.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from auth.request_log import current_request_log, describe_exception

FORMATS: Final = ("json", "text")
# The hub's own loggers log at INFO (the access line); libraries only from WARNING, uvicorn's access log never.
_QUIET: Final = (
    "uvicorn",
    "uvicorn.error",
    "alembic",
    "sqlalchemy",
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
    "urllib3",
    "opentelemetry",
)


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """What a line says: when, how bad, who logged, the message, the request's fields, an exception by type."""
    fields: dict[str, Any] = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "message": record.getMessage(),
    }
    access = getattr(record, "access", None)
    if isinstance(access, dict):
        fields.update(access)
    else:
        request_log = current_request_log()
        if request_log is not None:
            fields.update(request_log.fields())
    if record.exc_info and record.exc_info[1] is not None:
        fields["exception"] = describe_exception(record.exc_info[1])
    return fields


class JsonLines(logging.Formatter):
    """One JSON object per line (newlines inside a message are escaped, so a line is one record)."""

    def format(self, record: logging.LogRecord) -> str:
        return orjson.dumps(record_fields(record), default=str).decode()


class PlainText(logging.Formatter):
    """For a terminal: time, level, logger, message, then the request's fields as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        fields = record_fields(record)
        head = f"{fields.pop('time')} {fields.pop('level'):<7} {fields.pop('logger')}: {fields.pop('message')}"
        exception = fields.pop("exception", None)
        tail = " ".join(f"{name}={value}" for name, value in fields.items())
        return "\n".join(part for part in (f"{head}  {tail}" if tail else head, exception) if part)


def log_config(log_format: str) -> dict[str, Any]:
    """The logging configuration of `aidgraph serve`, applied by each uvicorn worker as it starts."""
    formatter = JsonLines if log_format == "json" else PlainText
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"hub": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "hub", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {
            **{name: {"level": "WARNING"} for name in _QUIET},
            "uvicorn.access": {"level": "CRITICAL", "propagate": False},
        },
    }
