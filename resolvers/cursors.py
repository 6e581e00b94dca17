"""Opaque pagination cursors: a list's position sealed with the hub's cursor key (AES-256-GCM).

A position is a resident id, a household number or an audit seq: handed out as it is, it would
disclose exactly what a policy may withhold (a minor's id from `eligibleStudents` edges). So the
position is padded to one length and encrypted, and authenticated together with the list it belongs
to and the client it was handed to: a cursor of another list or another client, and any text the hub
did not make, fails to open. Every failure is the same `BAD_USER_INPUT`, so an attacker does not
learn why (not even that a cursor is valid for somebody else).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from resolvers.records import bad_input

VERSION: Final = b"\x01"
NONCE_SIZE: Final = 12
POSITION_SIZE: Final = 40
"""Every position is padded to this many bytes (the longest, a household number, has 32), so a
cursor's length says nothing about its position."""
TAG_SIZE: Final = 16
SEALED_SIZE: Final = len(VERSION) + NONCE_SIZE + POSITION_SIZE + TAG_SIZE
CURSOR_LENGTH: Final = SEALED_SIZE * 4 // 3
"""The length of every cursor (92): base64url of the sealed bytes, a multiple of 3, so no padding."""
MAX_CURSOR_LENGTH: Final = 128
"""Longer text is refused before any decoding; room for a later version's slightly longer cursors."""
NOT_A_CURSOR: Final = "after: not a cursor of this list (pass a cursor this list gave you)"

_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class CursorKind:
    """One list's cursors: its name, bound into each cursor, and the canonical text of its positions."""

    name: str
    canonical: Callable[[str], str]
    """The canonical text of a position; raises ValueError for text that is no position of this list."""

    def valid(self, position: str) -> bool:
        try:
            return self.canonical(position) == position
        except ValueError:
            return False


class Cursors:
    """Seals and opens the cursors of one request, for the client it serves (None: the hub itself).

    The key is asked for on first use only, so a request that pages nothing never reads it.
    """

    def __init__(self, key: Callable[[], bytes], *, client_id: str | None) -> None:
        self._key = key
        self._client_id = client_id
        self._cipher: AESGCM | None = None

    def seal(self, kind: CursorKind, position: str) -> str:
        """The cursor of `position` in the list `kind`, fresh each time (a random nonce).

        Two cursors of one position differ, so a cursor cannot serve as a stable pseudonym of a
        person whose id is withheld. Random 96-bit nonces keep AES-GCM safe for 2^32 cursors per key.
        """
        plain = position.encode()
        # Positions come from the store, valid since ingest (checking each again would double the cost);
        # only what the padding needs is checked.
        if len(plain) > POSITION_SIZE or b"\0" in plain:
            raise ValueError(f"{position!r} cannot be sealed in a cursor of the {kind.name} list")  # a bug
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._aead().encrypt(nonce, plain.ljust(POSITION_SIZE, b"\0"), self._bound(kind))
        return base64.urlsafe_b64encode(VERSION + nonce + sealed).decode("ascii")

    def open(self, kind: CursorKind, cursor: str | None) -> str | None:
        """The position a cursor of `kind` stands for (None without one); BAD_USER_INPUT for any other text."""
        if cursor is None:
            return None
        position = self._unseal(kind, cursor)
        if position is None or not kind.valid(position):
            raise bad_input(NOT_A_CURSOR)
        return position

    def _unseal(self, kind: CursorKind, cursor: str) -> str | None:
        if len(cursor) > MAX_CURSOR_LENGTH or not _URL_SAFE.fullmatch(cursor):
            return None
        try:
            data = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            return None
        if len(data) != SEALED_SIZE or data[: len(VERSION)] != VERSION:
            return None
        nonce = data[len(VERSION) : len(VERSION) + NONCE_SIZE]
        try:
            plain = self._aead().decrypt(nonce, data[len(VERSION) + NONCE_SIZE :], self._bound(kind))
        except InvalidTag:
            return None
        try:
            return plain.rstrip(b"\0").decode()
        except UnicodeDecodeError:  # pragma: no cover - only the hub seals, and it seals text
            return None

    def _aead(self) -> AESGCM:
        if self._cipher is None:
            self._cipher = AESGCM(self._key())
        return self._cipher

    def _bound(self, kind: CursorKind) -> bytes:
        """The associated data: what a cursor is valid for besides its key."""
        holder = f"client:{self._client_id}" if self._client_id is not None else "hub"
        return b"aidgraph-cursor\0" + VERSION + kind.name.encode() + b"\0" + holder.encode()
