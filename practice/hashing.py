"""Keyed hashing of children's case references.

A case reference is never stored, logged or echoed back in a message. We keep
HMAC-SHA256(settings.CASE_REFERENCE_HASH_KEY, normalised reference) as 64 hex characters: the
same child gives the same hash, so re-referrals can be matched, but without the key the hash
cannot be reversed by trying every plausible reference (which an unkeyed hash would allow,
because case numbers are short and guessable).

Normalising (strip, upper-case, remove all whitespace) makes "nb 12345" and "NB12345 " the same
child, as people type references inconsistently.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

_ALLOWED = re.compile(r"^[A-Z0-9/\-.]{3,40}$")

# The message never contains the reference itself, so it is safe in logs and error pages.
INVALID_REFERENCE_MESSAGE = (
    "Enter the child's case reference: 3 to 40 letters, digits, hyphens, slashes or full stops."
)


def normalise_case_reference(raw: str) -> str:
    return re.sub(r"\s+", "", raw or "").upper()


def case_reference_is_valid(raw: str) -> bool:
    return bool(_ALLOWED.match(normalise_case_reference(raw)))


def case_reference_hash(raw: str) -> str:
    """The keyed hash of a case reference. Raises ValueError (without the value) when malformed."""
    normalised = normalise_case_reference(raw)
    if not _ALLOWED.match(normalised):
        raise ValueError(INVALID_REFERENCE_MESSAGE)
    key = settings.CASE_REFERENCE_HASH_KEY.encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()
