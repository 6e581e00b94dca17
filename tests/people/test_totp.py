"""The second factor: RFC 6238's own test vectors, a step either side, no code used twice, the enrolment QR code."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from auth.people.totp import new_secret, provisioning_uri, qr_svg, time_step, verify, well_formed

# RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890"; its 8-digit codes end in these 6 digits.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = {
    59: "287082",  # 94287082
    1111111109: "081804",  # 07081804
    1111111111: "050471",  # 14050471
    1234567890: "005924",  # 89005924
    2000000000: "279037",  # 69279037
    20000000000: "353130",  # 65353130
}


@pytest.mark.parametrize(("at", "code"), RFC_VECTORS.items(), ids=[str(at) for at in RFC_VECTORS])
def test_the_codes_are_those_of_rfc_6238(at: int, code: str) -> None:
    # given the RFC's secret and time, when its code is checked, then it is the step of that time
    assert verify(RFC_SECRET, code, last_step=None, at=at) == time_step(at)


def test_a_code_is_accepted_one_step_either_side_and_no_further() -> None:
    # given the code of 1111111111 s (step 37037037)
    code, step = RFC_VECTORS[1111111111], 1111111111 // 30
    # then it is accepted 30 s before and after, with its own step, and not 60 s away
    assert verify(RFC_SECRET, code, last_step=None, at=1111111111 + 30) == step
    assert verify(RFC_SECRET, code, last_step=None, at=1111111111 - 30) == step
    assert verify(RFC_SECRET, code, last_step=None, at=1111111111 + 60) is None
    assert verify(RFC_SECRET, code, last_step=None, at=1111111111 - 60) is None


def test_a_code_cannot_be_used_twice_nor_an_older_one_after_it() -> None:
    # given a code used once (its step stored as the last one)
    at = 1111111111
    used = verify(RFC_SECRET, RFC_VECTORS[at], last_step=None, at=at)
    assert used is not None
    # when it is sent again within its window, then it is refused
    assert verify(RFC_SECRET, RFC_VECTORS[at], last_step=used, at=at + 5) is None
    # and so is the code of the step before, still within the drift
    assert verify(RFC_SECRET, RFC_VECTORS[1111111109], last_step=used, at=at) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "٠٥٠٤٧١"])
def test_anything_but_six_ascii_digits_is_refused(code: str) -> None:
    assert verify(RFC_SECRET, code, last_step=None, at=1111111111) is None


def test_spaces_inside_a_code_as_apps_show_it_are_ignored() -> None:
    assert verify(RFC_SECRET, " 050 471 ", last_step=None, at=1111111111) == 1111111111 // 30


def test_a_malformed_secret_never_verifies() -> None:
    assert verify("not base32!", "050471", last_step=None, at=1111111111) is None


def test_a_new_secret_is_160_random_bits_in_base32_and_enrols_through_the_uri_and_qr_code() -> None:
    # when a secret is made, with its enrolment URI and QR code
    secret = new_secret()
    uri = provisioning_uri("wang fang", secret)
    svg = qr_svg(uri)
    # then it is 32 base32 characters, new each time
    assert well_formed(secret) and len(base64.b32decode(secret)) == 20 and new_secret() != secret
    # and the URI is the otpauth form authenticator apps read, issued by aidgraph
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, parts.path) == ("otpauth", "totp", "/aidgraph:wang%20fang")
    query = parse_qs(parts.query)
    assert query["secret"] == [secret] and query["issuer"] == ["aidgraph"]
    # and the QR code is an inline SVG element with a title, without an XML declaration or script
    assert svg.startswith("<svg") and svg.endswith("</svg>") and "<title>" in svg
    assert "<?xml" not in svg and "script" not in svg


def test_a_secret_of_another_shape_is_not_well_formed() -> None:
    assert not well_formed("AAAA") and not well_formed(new_secret().lower()) and not well_formed("A" * 31 + "1")
