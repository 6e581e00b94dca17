"""The registered operations a running hub serves: looked up per worker, checked against its schema.

An id is the hash of its text, so a text once read never goes stale; what changes is which ids are
registered, and for which client. The worker keeps the list of ids (and their clients) and reads it
again every `ttl` seconds, as `auth.policy_store.PolicyCache` does the policy: a removal takes
effect everywhere within that time, a new registration too, and an unknown id (a client probing, or
sending an id it was never given) costs a dictionary look-up, not a query. Each text is read once,
on first use, and checked against the schema the worker runs: one that no longer validates is not
served, and said so in the log once, by id and name.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from registered.documents import Document, document_id, problems_of
from registered.tables import registered_operation
from schema import HubSchema

log = logging.getLogger(__name__)
EVERY_CLIENT = None


@dataclass(frozen=True)
class Served:
    """A registered operation this worker serves."""

    document_id: str
    operation_name: str
    text: str


class RegisteredOperations:
    """The registered operations one worker serves, for whichever client may use each."""

    def __init__(
        self,
        engine: sa.Engine,
        schema: HubSchema,
        *,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._schema = schema
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: dict[str, str | None] = {}  # every registered id -> the only client that may use it
        self._checked = float("-inf")
        self._texts: dict[str, Served | None] = {}  # None: registered, but this schema does not serve it

    def find(self, wanted: str, *, client_id: str | None, from_memory: bool = False) -> Served | None:
        """The operation registered as `wanted` for this client (or every client), if this worker serves it.

        An operation registered for another client is None, as an unknown id is: a client learns
        nothing of the others' operations. `from_memory`: the list as last read and the texts already
        read, never the store (the event loop asks so, after `answers_from_memory`)."""
        clients = self._clients if from_memory else self._registered()
        if wanted not in clients or clients[wanted] not in (EVERY_CLIENT, client_id):
            return None
        if wanted not in self._texts:
            if from_memory:  # dropped by a refresh just now: it is no longer registered
                return None
            self._texts[wanted] = self._read(wanted)
        return self._texts[wanted]

    def answers_from_memory(self, wanted: str, *, client_id: str | None) -> bool:
        """Whether `find(wanted)` would answer without reading the store: the list is fresh, and the id is
        not one this client may use (refused without a read, whoever it belongs to: the time of the
        answer says nothing of others' operations) or its text has been read."""
        if self._clock() - self._checked >= self._ttl:
            return False
        usable = wanted in self._clients and self._clients[wanted] in (EVERY_CLIENT, client_id)
        return not usable or wanted in self._texts

    def of_text(self, text: str, *, client_id: str | None, from_memory: bool = False) -> Served | None:
        """The registered operation whose text `text` is exactly, for this client; None for any other text."""
        clients = self._clients if from_memory else self._registered()
        return self.find(document_id(text), client_id=client_id, from_memory=from_memory) if clients else None

    def check_all(self) -> list[str]:
        """Read and check every registered operation now (the hub's start): the ids of those not served.

        A store that cannot be read now is no failure of the start: each operation is then checked
        on its first use instead."""
        try:
            with self._lock:
                self._refresh()
            for wanted in list(self._clients):
                self._texts[wanted] = self._read(wanted)
        except sa.exc.SQLAlchemyError as error:
            log.warning("registered operations not checked at start (%s): each is checked on first use", type(error))
            return []
        return [wanted for wanted, served in self._texts.items() if served is None]

    def _registered(self) -> dict[str, str | None]:
        if self._clock() - self._checked >= self._ttl:
            with self._lock:
                if self._clock() - self._checked >= self._ttl:
                    self._refresh()
        return self._clients

    def _refresh(self) -> None:
        columns = (registered_operation.c.document_id, registered_operation.c.client_id)
        with self._engine.connect() as connection:
            rows = connection.execute(sa.select(*columns)).all()
        self._clients = {row.document_id: row.client_id for row in rows}
        # a removed id's text is dropped too, so one registered again is read (and checked) again
        self._texts = {wanted: served for wanted, served in self._texts.items() if wanted in self._clients}
        self._checked = self._clock()

    def _read(self, wanted: str) -> Served | None:
        columns = (
            registered_operation.c.operation_name,
            registered_operation.c.operation_type,
            registered_operation.c.document,
        )
        statement = sa.select(*columns).where(registered_operation.c.document_id == wanted)
        with self._engine.connect() as connection:
            row = connection.execute(statement).first()
        if row is None:  # removed since the list was read
            return None
        document = Document(wanted, row.operation_name, row.operation_type, row.document)
        problems = problems_of(self._schema, document)
        if problems or document_id(document.text) != wanted:
            # The problems themselves stay out of the log: graphql's messages may quote the document's values.
            log.error(
                "registered operation %s (%s) is not served: it does not validate against this hub's schema "
                "(%d problems; aidgraph operations list says which)",
                wanted,
                document.operation_name,
                len(problems),
            )
            return None
        return Served(wanted, document.operation_name, document.text)
