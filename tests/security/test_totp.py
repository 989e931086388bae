"""TOTP (RFC 6238) against the RFC's own test vectors."""

import hashlib

import pytest

from training import totp

SECRET = b"12345678901234567890"


# RFC 6238 Appendix B, SHA-1 column (8 digits).
@pytest.mark.parametrize(
    ("at", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_rfc_6238_sha1_vectors(at, code):
    assert totp.totp(SECRET, at=at, digits=8, digest=hashlib.sha1) == code


def test_six_digit_codes_are_the_last_six_digits():
    assert totp.totp(SECRET, at=59) == "287082"


# RFC 4226 Appendix D: HOTP values for counters 0 to 9.
def test_rfc_4226_hotp_vectors():
    expected = [
        "755224",
        "287082",
        "359152",
        "969429",
        "338314",
        "254676",
        "287922",
        "162583",
        "399871",
        "520489",
    ]
    assert [totp.hotp(SECRET, counter) for counter in range(10)] == expected


def test_a_code_from_the_previous_step_is_accepted_for_clock_drift():
    assert totp.matching_step(SECRET, "287082", at=59 + 30) == 1
    assert totp.matching_step(SECRET, "287082", at=59 + 90) is None


def test_malformed_codes_do_not_match():
    for code in ["", "28708", "2870822", "abcdef", "287 08x"]:
        assert totp.matching_step(SECRET, code, at=59) is None


def test_base32_round_trip_and_provisioning_uri():
    key = totp.new_secret()
    assert len(key) == 20
    assert totp.from_base32(totp.to_base32(key)) == key
    uri = totp.provisioning_uri(SECRET, account="admin", issuer="Closing the Loop")
    assert uri.startswith("otpauth://totp/Closing%20the%20Loop%3Aadmin?")
    assert "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" in uri
