"""Time-based one-time passwords (RFC 6238, HOTP of RFC 4226 underneath), with the standard
library only. Pure functions: no Django, no database.

>>> totp(b"12345678901234567890", at=59, digits=8)
'94287082'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, digest=hashlib.sha1) -> str:
    """RFC 4226 section 5.3: HMAC the big-endian counter, dynamically truncate, keep ``digits``."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def time_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP_SECONDS)


def totp(key: bytes, *, at: float | None = None, digits: int = DIGITS, digest=hashlib.sha1) -> str:
    return hotp(key, time_step(at), digits=digits, digest=digest)


def matching_step(key: bytes, code: str, *, at: float | None = None, drift: int = 1) -> int | None:
    """The time step whose code equals ``code``, allowing ``drift`` steps either way for a phone
    clock that is a little out; None when nothing matches. Compared in constant time."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == DIGITS):
        return None
    now = time_step(at)
    found = None
    for step in range(now - drift, now + drift + 1):
        if hmac.compare_digest(hotp(key, step), code):
            found = step
    return found


def new_secret() -> bytes:
    """160 random bits, the key length RFC 4226 recommends for HMAC-SHA1."""
    return secrets.token_bytes(20)


def to_base32(key: bytes) -> str:
    """The form authenticator apps accept when a secret is typed in (no padding)."""
    return base64.b32encode(key).decode("ascii").rstrip("=")


def from_base32(text: str) -> bytes:
    cleaned = text.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def provisioning_uri(key: bytes, *, account: str, issuer: str) -> str:
    """The otpauth:// URI authenticator apps read (Google Authenticator's key URI format)."""
    label = quote(f"{issuer}:{account}")
    query = urlencode({"secret": to_base32(key), "issuer": issuer, "digits": DIGITS, "period": STEP_SECONDS})
    return f"otpauth://totp/{label}?{query}"
