"""Whether an error means the hub's own store cannot be reached (a restart, a lost connection, no free one).

Such an error says nothing about the request: the same request succeeds once the store is back. So it
is answered `503` with `Retry-After` (schema/errors.py, the endpoint), never as an internal error in a
`200`. Errors of a statement itself (a constraint, a timeout of a statement, bad SQL) are not outages.

The store's batch reads go to psycopg directly (adapters/store.py), so its errors are met both bare
and wrapped by SQLAlchemy.
"""

from __future__ import annotations

from typing import Final

import psycopg
import sqlalchemy as sa

from adapters.sources import SourceUnavailable

OUTAGE_RETRY_AFTER_SECONDS: Final = 5
"""What `Retry-After` tells a client while the store or the audit trail is away: about a restart's time."""

_OPERATOR_INTERVENTION: Final = ("57P01", "57P02", "57P03", "57P04", "57P05")
"""admin_shutdown, crash_shutdown, cannot_connect_now (starting or stopping), database_dropped, idle
session timeout: the server ended or refuses the session. (57014, a cancelled statement, is not here.)"""


def store_unavailable(error: BaseException | None) -> bool:
    """Whether `error`, or what it wraps, is the store being away rather than the statement failing."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, SourceUnavailable):  # a department's own system: its fields fail, not the request
            return False
        if isinstance(error, sa.exc.TimeoutError):  # no pooled connection came free in time
            return True
        if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, psycopg.InterfaceError):  # "the connection is closed"
            return True
        if isinstance(error, psycopg.OperationalError):
            state = error.sqlstate
            # no state: the client side failed (refused, lost, closed by the server); 08: connection exception
            return state is None or state.startswith("08") or state in _OPERATOR_INTERVENTION
        error = error.orig if isinstance(error, sa.exc.DBAPIError) else (error.__cause__ or error.__context__)
    return False
