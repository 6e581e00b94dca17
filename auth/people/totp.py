"""The second factor: RFC 6238 time-based codes (30 s steps, 6 digits, SHA-1), as every authenticator app reads them.

The codes are computed by pyotp; the enrolment QR code is drawn by segno as an SVG that a page can
hold inline (no image request, nothing for a Content-Security-Policy to allow). A code is accepted
one step either side of now, for clocks that drift, and only for a step later than the last one the
person used, so that a code seen over a shoulder cannot be used again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from typing import Final

import pyotp
import segno

ISSUER: Final = "aidgraph"
STEP_SECONDS: Final = 30
DIGITS: Final = 6
DRIFT_STEPS: Final = 1
_SECRET_BYTES: Final = 20  # 160 bits, RFC 4226's recommendation: 32 base32 characters
_SECRET: Final = re.compile(r"[A-Z2-7]{32}")
_CODE: Final = re.compile(rf"[0-9]{{{DIGITS}}}")


def new_secret() -> str:
    """A new random secret, base32 without padding, as authenticator apps take it."""
    return base64.b32encode(secrets.token_bytes(_SECRET_BYTES)).decode("ascii")


def well_formed(secret: str) -> bool:
    """Whether `secret` has the shape `new_secret` makes (a secret sent back by an enrolment form is checked)."""
    return _SECRET.fullmatch(secret) is not None


def provisioning_uri(name: str, secret: str) -> str:
    """`otpauth://totp/aidgraph:<name>?secret=...&issuer=aidgraph`: what the QR code holds."""
    return _totp(secret).provisioning_uri(name=name, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The URI as a QR code, an `<svg>` element to put inline in a page (dark on white, whatever the page's colours)."""
    qr = segno.make(uri, error="m")
    return str(qr.svg_inline(scale=4, dark="#000", light="#fff", title="QR code for an authenticator app"))


def time_step(at: float) -> int:
    return int(at // STEP_SECONDS)


def verify(secret: str, code: str, *, last_step: int | None, at: float) -> int | None:
    """The time step `code` belongs to, if it is right within one step of `at` and later than `last_step`; else None.

    The caller stores the step returned as the person's new `last_step`.
    """
    code = code.strip().replace(" ", "")
    if not _CODE.fullmatch(code):
        return None
    try:
        totp = _totp(secret)
        now = time_step(at)
        found = None
        for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
            # every candidate compared, in constant time, whichever matches
            if hmac.compare_digest(totp.generate_otp(step), code) and (last_step is None or step > last_step):
                found = step
    except (binascii.Error, ValueError):  # a malformed secret never verifies
        return None
    return found


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, digest=hashlib.sha1, interval=STEP_SECONDS, issuer=ISSUER)
