"""People's passwords: stored as scrypt hashes (auth/secret_hashing.py), one-time ones made here, new ones checked.

A password is compared in its NFKC form, so that the same characters typed through another input
method (full-width digits, composed accents) are the same password.
"""

from __future__ import annotations

import secrets
import unicodedata
from typing import Final

from auth.secret_hashing import check_secret, dummy_hash, hash_secret

MIN_LENGTH: Final = 12
# Long enough for any passphrase a person types; short enough that a body cannot make scrypt hash megabytes.
MAX_LENGTH: Final = 256
# No 0/o, 1/l/i: a one-time password is read off a screen and typed by hand.
_ONE_TIME_ALPHABET: Final = "23456789abcdefghjkmnpqrstuvwxyz"
_ONE_TIME_GROUPS: Final = 4
_ONE_TIME_GROUP_LENGTH: Final = 5  # 20 characters of 31: ~99 bits


class PasswordError(ValueError):
    """A new password that the rules refuse; the message says which rule."""


def hash_password(password: str) -> str:
    return hash_secret(_normal(password))


def check_password(password: str, encoded: str | None) -> bool:
    """Whether `password` is the one hashed in `encoded`; None (no such person) costs the same scrypt and fails."""
    if encoded is None:
        check_secret(_normal(password)[:MAX_LENGTH], dummy_hash())
        return False
    return check_secret(_normal(password)[:MAX_LENGTH], encoded) and len(password) <= MAX_LENGTH


def new_one_time_password() -> str:
    """A random password to hand to a person once, such as `k7m2p-x9qrt-4hw3n-bc8ez`; it must be changed."""
    groups = (
        "".join(secrets.choice(_ONE_TIME_ALPHABET) for _ in range(_ONE_TIME_GROUP_LENGTH))
        for _ in range(_ONE_TIME_GROUPS)
    )
    return "-".join(groups)


def check_new_password(password: str, *, name: str, current_hash: str | None = None) -> None:
    """Refuse a new password that is too short or too long, is the person's name, or is the current one.

    `current_hash` is the password being replaced (the one-time password at the first sign-in): a
    new password equal to it would leave the password someone else has seen in use.
    """
    normal = _normal(password)
    if len(normal) < MIN_LENGTH:
        raise PasswordError(f"the new password must have at least {MIN_LENGTH} characters")
    if len(normal) > MAX_LENGTH:
        raise PasswordError(f"the new password must have at most {MAX_LENGTH} characters")
    if normal.casefold() == _normal(name).casefold():
        raise PasswordError("the new password must not be your name")
    if current_hash is not None and check_password(password, current_hash):
        raise PasswordError("the new password must differ from the one-time password you were given")


def _normal(password: str) -> str:
    return unicodedata.normalize("NFKC", password)
