"""Slow, salted hashes of secrets (client secrets, people's passwords): scrypt, checked in constant time.

One home for the hashing, so that a client's secret and a person's password are stored, and checked,
the same way, and raising the cost later raises it for both.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

# scrypt at n=2^14, r=8, p=1 costs ~16 MiB and some tens of milliseconds: cheap for one token
# request or sign-in, expensive for anyone who steals the table and tries to guess. The parameters
# are stored with each hash, so raising them later leaves existing hashes verifiable.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
_SCHEME = "scrypt"


def hash_secret(secret: str) -> str:
    """`scrypt$n$r$p$salt$hash`, salt and hash in unpadded base64url."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(secret, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return "$".join((_SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)))


def check_secret(secret: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = encoded.split("$")
        if scheme != _SCHEME:
            return False
        digest = _scrypt(secret, salt=_unb64(salt), n=int(n), r=int(r), p=int(p))
        return hmac.compare_digest(digest, _unb64(expected))
    except ValueError:  # a malformed stored hash never matches
        return False


@functools.cache
def dummy_hash() -> str:
    """Hashed once, lazily: checking against it costs an unknown name the same scrypt work as a wrong secret."""
    return hash_secret(secrets.token_urlsafe(32))


def _scrypt(secret: str, *, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem above the 128*n*r bytes scrypt needs, which is just over OpenSSL's 32 MiB default at n=2^15.
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=_HASH_BYTES, maxmem=128 * n * r + 2**20)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
