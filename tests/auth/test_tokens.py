"""Access tokens: issue and validate round trips, key rotation, and every attack refused with its reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc.jwk import ECKey

from auth.keys import KeyRing, SigningKey
from auth.tokens import MAX_LIFETIME, InvalidToken, TokenIssuer, TokenValidator

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=1)
ISSUER = "https://hub.example.org"
AUDIENCE = "https://hub.example.org/graphql"
LIFETIME = timedelta(minutes=5)
CLIENT = "civil-affairs-nanan"
DROP = object()  # in a change table: remove this header or claim


def seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unsegment(text: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    return decoded


def ec_private_key(key: SigningKey | ECKey) -> ec.EllipticCurvePrivateKey:
    jwk = key.jwk if isinstance(key, SigningKey) else key
    private = jwk.private_key
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    return private


def forge_es256(header: dict[str, Any], claims: dict[str, Any], private_key: ec.EllipticCurvePrivateKey) -> str:
    """A token built by hand, signed the way RFC 7518 §3.4 says: raw r || s, not DER."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    r, s = decode_dss_signature(private_key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def good_header(key: SigningKey) -> dict[str, Any]:
    return {"typ": "at+jwt", "alg": "ES256", "kid": key.kid}


def good_claims() -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "sub": CLIENT,
        "aud": AUDIENCE,
        "exp": seconds(T0 + LIFETIME),
        "iat": seconds(T0),
        "nbf": seconds(T0),
        "jti": "4f1c0d6e-jti",
        "client_id": CLIENT,
        "scope": "purpose:assistance-review",
    }


def changed(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    result = {**base, **changes}
    return {name: value for name, value in result.items() if value is not DROP}


def refusal(validator: TokenValidator, token: str, *, now: datetime = NOW) -> str:
    with pytest.raises(InvalidToken) as caught:
        validator.validate(token, now=now)
    return caught.value.reason


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate(now=T0)


@pytest.fixture
def issuer(ring: KeyRing) -> TokenIssuer:
    return TokenIssuer(ring, issuer=ISSUER, audience=AUDIENCE, lifetime=LIFETIME)


@pytest.fixture
def validator(ring: KeyRing) -> TokenValidator:
    return TokenValidator(ring, issuer=ISSUER, audience=AUDIENCE)


# --- issuing ---


def test_issued_token_round_trips_with_every_rfc9068_claim(ring: KeyRing, issuer: TokenIssuer) -> None:
    # given an issuer and a validator sharing one key ring
    validator = TokenValidator(ring, issuer=ISSUER, audience=AUDIENCE)

    # when a token is issued with scopes and an extra claim, then validated
    token = issuer.issue(
        client_id=CLIENT,
        scope=["purpose:assistance-review", "households:read"],
        extra_claims={"department": "civil-affairs"},
        now=T0,
    )
    claims = validator.validate(token, now=NOW)

    # then the header says what RFC 9068 requires
    header_segment, payload_segment, _ = token.split(".")
    assert unsegment(header_segment) == {"typ": "at+jwt", "alg": "ES256", "kid": ring.current.kid}
    # and the payload carries every claim
    payload = unsegment(payload_segment)
    assert payload["iss"] == ISSUER
    assert payload["sub"] == payload["client_id"] == CLIENT
    assert payload["aud"] == AUDIENCE
    assert payload["iat"] == payload["nbf"] == seconds(T0)
    assert payload["exp"] == seconds(T0 + LIFETIME)
    assert payload["scope"] == "purpose:assistance-review households:read"
    assert isinstance(payload["jti"], str) and len(payload["jti"]) >= 16
    # and the validated claims say the same
    assert claims.issuer == ISSUER
    assert claims.subject == claims.client_id == CLIENT
    assert claims.audience == (AUDIENCE,)
    assert claims.scope == ("purpose:assistance-review", "households:read")
    assert claims.jti == payload["jti"]
    assert claims.issued_at == claims.not_before == T0
    assert claims.expires_at == T0 + LIFETIME
    assert claims.raw["department"] == "civil-affairs"


def test_every_token_gets_its_own_jti(issuer: TokenIssuer) -> None:
    # given one client asking many times at the same instant
    # when tokens are issued
    tokens = [issuer.issue(client_id=CLIENT, scope=[], now=T0) for _ in range(50)]

    # then no two share a jti
    assert len({unsegment(token.split(".")[1])["jti"] for token in tokens}) == 50


def test_lifetime_up_to_fifteen_minutes_is_accepted_and_longer_refused(ring: KeyRing) -> None:
    # given the maximum lifetime, then when it is configured it is accepted
    TokenIssuer(ring, issuer=ISSUER, audience=AUDIENCE, lifetime=MAX_LIFETIME)

    # when one second more is configured, then it is refused
    with pytest.raises(ValueError, match="exceeds"):
        TokenIssuer(ring, issuer=ISSUER, audience=AUDIENCE, lifetime=MAX_LIFETIME + timedelta(seconds=1))
    # and so is a lifetime of zero
    with pytest.raises(ValueError, match="positive"):
        TokenIssuer(ring, issuer=ISSUER, audience=AUDIENCE, lifetime=timedelta(0))


def test_extra_claims_cannot_override_registered_claims(issuer: TokenIssuer) -> None:
    # given extra claims that try to widen the audience
    # when a token is issued, then it is refused
    with pytest.raises(ValueError, match="aud"):
        issuer.issue(client_id=CLIENT, scope=[], extra_claims={"aud": "https://anything"}, now=T0)


def test_scope_tokens_with_spaces_are_refused(issuer: TokenIssuer) -> None:
    # given a scope value that would read as two scopes once space-joined
    # when a token is issued, then it is refused
    with pytest.raises(ValueError, match="scope"):
        issuer.issue(client_id=CLIENT, scope=["purpose:audit admin"], now=T0)


def test_naive_now_is_refused(issuer: TokenIssuer, validator: TokenValidator) -> None:
    # given a datetime without a zone, which timestamp() would read as local time
    naive = datetime(2025, 3, 1, 9, 0)

    # when issuing or validating with it, then it is refused
    with pytest.raises(ValueError, match="timezone-aware"):
        issuer.issue(client_id=CLIENT, scope=[], now=naive)
    token = issuer.issue(client_id=CLIENT, scope=[], now=T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        validator.validate(token, now=naive)


# --- validating: the hand-forged control and the accepted variants ---


def test_hand_forged_token_with_good_header_and_claims_is_accepted(ring: KeyRing, validator: TokenValidator) -> None:
    # given a token built by hand exactly as the issuer would build it
    token = forge_es256(good_header(ring.current), good_claims(), ec_private_key(ring.current))

    # when it is validated
    claims = validator.validate(token, now=NOW)

    # then it is accepted, so each refusal below is due to its one change
    assert claims.client_id == CLIENT


@pytest.mark.parametrize("token_type", ["application/at+jwt", "AT+JWT", "Application/At+Jwt"])
def test_media_type_forms_of_typ_are_accepted(ring: KeyRing, validator: TokenValidator, token_type: str) -> None:
    # given a typ in the full media-type form or another case (RFC 9068 §4)
    header = changed(good_header(ring.current), {"typ": token_type})
    token = forge_es256(header, good_claims(), ec_private_key(ring.current))

    # when validated, then accepted
    assert validator.validate(token, now=NOW).jti == "4f1c0d6e-jti"


def test_audience_may_be_a_list_that_contains_ours(ring: KeyRing, validator: TokenValidator) -> None:
    # given a token for two audiences, ours among them
    claims = changed(good_claims(), {"aud": ["https://other.example.org", AUDIENCE]})
    token = forge_es256(good_header(ring.current), claims, ec_private_key(ring.current))

    # when validated, then accepted with both audiences
    assert validator.validate(token, now=NOW).audience == ("https://other.example.org", AUDIENCE)


def test_leeway_tolerates_small_clock_skew(ring: KeyRing, issuer: TokenIssuer) -> None:
    # given a validator allowing 30 seconds of skew
    lenient = TokenValidator(ring, issuer=ISSUER, audience=AUDIENCE, leeway_seconds=30)
    token = issuer.issue(client_id=CLIENT, scope=[], now=T0)

    # when the token is checked 20 s after expiry, and 20 s before it was issued
    # then both are accepted, and 31 s after expiry it is not
    lenient.validate(token, now=T0 + LIFETIME + timedelta(seconds=20))
    lenient.validate(token, now=T0 - timedelta(seconds=20))
    assert refusal(lenient, token, now=T0 + LIFETIME + timedelta(seconds=31)) == "expired"


# --- validating: attacks ---


@pytest.mark.parametrize("algorithm", ["none", "None", "NONE"])
def test_alg_none_is_refused(ring: KeyRing, validator: TokenValidator, algorithm: str) -> None:
    # given an unsigned token: alg none and an empty signature
    header = changed(good_header(ring.current), {"alg": algorithm})
    token = f"{segment(header)}.{segment(good_claims())}."

    # when validated, then refused
    assert refusal(validator, token) == "alg not allowed"


def test_hs256_signed_with_the_public_key_is_refused(ring: KeyRing, validator: TokenValidator) -> None:
    # given the algorithm-confusion attack: HS256 with the published public key (PEM) as HMAC secret
    public_pem = ring.current.jwk.as_pem(private=False)
    header = changed(good_header(ring.current), {"alg": "HS256"})
    signing_input = f"{segment(header)}.{segment(good_claims())}"
    signature = hmac.new(public_pem, signing_input.encode("ascii"), hashlib.sha256).digest()
    token = f"{signing_input}.{b64url(signature)}"

    # when validated, then refused
    assert refusal(validator, token) == "alg not allowed"


def test_embedded_jwk_header_is_refused(ring: KeyRing, validator: TokenValidator) -> None:
    # given a token signed by an attacker's key that carries that key in its own header
    attacker = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"}, auto_kid=True)
    header = {**good_header(ring.current), "kid": attacker.kid, "jwk": attacker.as_dict(private=False)}
    token = forge_es256(header, good_claims(), ec_private_key(attacker))

    # when validated, then refused
    assert refusal(validator, token) == "header jwk not accepted"


HEADER_CHANGES = [
    pytest.param({"typ": DROP}, "typ must be at+jwt", id="missing typ"),
    pytest.param({"typ": "JWT"}, "typ must be at+jwt", id="typ JWT"),
    pytest.param({"typ": "at+jwt; charset=x"}, "typ must be at+jwt", id="typ with parameter"),
    pytest.param({"kid": "kid-nobody-published"}, "unknown key id", id="unknown kid"),
    pytest.param({"kid": DROP}, "missing key id", id="missing kid"),
    pytest.param({"alg": "RS256"}, "alg not allowed", id="alg other than the key's"),
    pytest.param({"alg": "ES512"}, "alg not allowed", id="alg not in the ring"),
    pytest.param({"jku": "https://attacker.example/jwks.json"}, "header jku not accepted", id="jku"),
    pytest.param({"x5u": "https://attacker.example/cert.pem"}, "header x5u not accepted", id="x5u"),
    pytest.param({"x5c": ["MIIBszCCAVmgAwIBAgIU"]}, "header x5c not accepted", id="x5c"),
    pytest.param({"crit": ["exp"]}, "header crit not accepted", id="crit"),
    pytest.param({"b64": False, "crit": ["b64"]}, "header b64 not accepted", id="unencoded payload b64"),
]


@pytest.mark.parametrize(("header_change", "reason"), HEADER_CHANGES)
def test_header_attacks_are_refused(
    ring: KeyRing, validator: TokenValidator, header_change: dict[str, Any], reason: str
) -> None:
    # given a token validly signed by the current key, with one header changed
    header = changed(good_header(ring.current), header_change)
    token = forge_es256(header, good_claims(), ec_private_key(ring.current))

    # when validated, then refused with the reason
    assert refusal(validator, token) == reason


CLAIM_CHANGES = [
    pytest.param({"exp": seconds(NOW) - 1}, "expired", id="expired"),
    pytest.param({"exp": seconds(NOW)}, "expired", id="expires this second"),
    pytest.param({"exp": DROP}, "missing exp", id="missing exp"),
    pytest.param({"exp": "2099-01-01"}, "invalid exp", id="exp not a number"),
    pytest.param({"exp": float("nan")}, "invalid exp", id="exp NaN"),
    pytest.param({"exp": float("inf")}, "invalid exp", id="exp infinity"),
    pytest.param({"nbf": seconds(NOW) + 60}, "not yet valid", id="nbf in the future"),
    pytest.param({"iat": seconds(NOW) + 60}, "issued in the future", id="iat in the future"),
    pytest.param({"iat": DROP}, "missing iat", id="missing iat"),
    pytest.param({"aud": "https://other.example.org"}, "wrong audience", id="wrong aud"),
    pytest.param({"aud": ["https://other.example.org"]}, "wrong audience", id="wrong aud list"),
    pytest.param({"aud": DROP}, "missing aud", id="missing aud"),
    pytest.param({"iss": ISSUER + "/"}, "wrong issuer", id="iss with trailing slash"),
    pytest.param({"iss": ISSUER.upper()}, "wrong issuer", id="iss in another case"),
    pytest.param({"iss": DROP}, "missing iss", id="missing iss"),
    pytest.param({"sub": DROP}, "missing sub", id="missing sub"),
    pytest.param({"client_id": DROP}, "missing client_id", id="missing client_id"),
    pytest.param({"jti": DROP}, "missing jti", id="missing jti"),
    pytest.param({"scope": ["purpose:audit"]}, "invalid scope", id="scope not a string"),
]


@pytest.mark.parametrize(("claim_change", "reason"), CLAIM_CHANGES)
def test_claim_attacks_are_refused(
    ring: KeyRing, validator: TokenValidator, claim_change: dict[str, Any], reason: str
) -> None:
    # given a token validly signed by the current key, with one claim changed
    token = forge_es256(good_header(ring.current), changed(good_claims(), claim_change), ec_private_key(ring.current))

    # when validated, then refused with the reason
    assert refusal(validator, token) == reason


LEEWAY = timedelta(seconds=10)
# Each token below is one the issuer's own code never makes, yet signed with its key.
OVERSTEPPING_CHANGES = [
    pytest.param(
        {"exp": seconds(T0 + LIFETIME + LEEWAY) + 1}, "exp beyond the maximum lifetime", id="a second too long"
    ),
    pytest.param({"exp": seconds(NOW + timedelta(days=365))}, "exp beyond the maximum lifetime", id="a year ahead"),
    pytest.param(
        {"iat": seconds(NOW - timedelta(hours=1)), "nbf": seconds(NOW - timedelta(hours=1))},
        "exp beyond the maximum lifetime",
        id="iat set back",
    ),
    pytest.param(
        {"iat": seconds(NOW + LEEWAY), "nbf": seconds(NOW + LEEWAY), "exp": seconds(NOW + LIFETIME + LEEWAY) + 1},
        "exp beyond the maximum lifetime",
        id="iat set ahead within the leeway",
    ),
    pytest.param({"sub": "civil-affairs-licheng"}, "sub is not the client_id", id="sub of another client"),
]


def own_rules_validator(ring: KeyRing) -> TokenValidator:
    """A validator held to how TokenIssuer issues, as the hub checks its own tokens."""
    return TokenValidator(
        ring,
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway_seconds=int(LEEWAY.total_seconds()),
        max_lifetime=LIFETIME,
        subject_is_client=True,
    )


def test_tokens_as_the_issuer_makes_them_pass_its_own_rules(ring: KeyRing, issuer: TokenIssuer) -> None:
    # given the issuer's own rules
    validator = own_rules_validator(ring)
    # when a token it issued is checked, and one forged to the last second the leeway allows
    issued = issuer.issue(client_id=CLIENT, scope=[], now=T0)
    at_the_limit = changed(good_claims(), {"exp": seconds(T0 + LIFETIME + LEEWAY)})
    forged = forge_es256(good_header(ring.current), at_the_limit, ec_private_key(ring.current))
    # then both are accepted, so each refusal below is due to its one change
    assert validator.validate(issued, now=NOW).client_id == CLIENT
    assert validator.validate(forged, now=NOW).subject == CLIENT


@pytest.mark.parametrize(("claim_change", "reason"), OVERSTEPPING_CHANGES)
def test_tokens_the_issuer_never_makes_are_refused_by_its_own_rules(
    ring: KeyRing, claim_change: dict[str, Any], reason: str
) -> None:
    # given a token signed by the issuer's key, with a lifetime or a subject it never gives
    token = forge_es256(good_header(ring.current), changed(good_claims(), claim_change), ec_private_key(ring.current))
    # when checked by the issuer's own rules, then refused with the reason
    assert refusal(own_rules_validator(ring), token) == reason
    # and accepted without them, as the tokens of an issuer with lifetimes and subjects of its own are
    without_them = TokenValidator(ring, issuer=ISSUER, audience=AUDIENCE, leeway_seconds=int(LEEWAY.total_seconds()))
    assert without_them.validate(token, now=NOW).client_id == CLIENT


def test_a_max_lifetime_must_be_positive(ring: KeyRing) -> None:
    # given no lifetime at all, when a validator is made with it, then it is refused
    with pytest.raises(ValueError, match="positive"):
        TokenValidator(ring, issuer=ISSUER, audience=AUDIENCE, max_lifetime=timedelta(0))


def test_tampered_payload_is_refused(issuer: TokenIssuer, validator: TokenValidator) -> None:
    # given a real token whose payload is swapped for one with a wider scope
    header_segment, payload_segment, signature_segment = issuer.issue(
        client_id=CLIENT, scope=["purpose:student-aid"], now=T0
    ).split(".")
    widened = {**unsegment(payload_segment), "scope": "purpose:audit"}
    token = f"{header_segment}.{segment(widened)}.{signature_segment}"

    # when validated, then refused
    assert refusal(validator, token) == "bad signature"


def test_tampered_signature_is_refused(issuer: TokenIssuer, validator: TokenValidator) -> None:
    # given a real token with one character of its signature changed
    token = issuer.issue(client_id=CLIENT, scope=[], now=T0)
    signing_input, signature = token.rsplit(".", 1)
    flipped = ("B" if signature[10] == "A" else "A").join([signature[:10], signature[11:]])
    tampered = f"{signing_input}.{flipped}"

    # when validated, then refused
    assert tampered != token
    assert refusal(validator, tampered) == "bad signature"


def test_signature_by_another_key_under_our_kid_is_refused(ring: KeyRing, validator: TokenValidator) -> None:
    # given a token naming our kid but signed by an attacker's P-256 key
    attacker = ECKey.generate_key("P-256")
    token = forge_es256(good_header(ring.current), good_claims(), ec_private_key(attacker))

    # when validated, then refused
    assert refusal(validator, token) == "bad signature"


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c", "....", "eyJhbGciOiJFUzI1NiJ9.e30.AA.AA", "tøken.a.b"])
def test_malformed_tokens_are_refused(validator: TokenValidator, token: str) -> None:
    # given something that is not a compact JWS
    # when validated, then refused as malformed
    assert refusal(validator, token) == "malformed token"


def test_revoked_jti_is_refused(ring: KeyRing, issuer: TokenIssuer) -> None:
    # given a denylist holding one token's jti
    revoked_token = issuer.issue(client_id=CLIENT, scope=[], now=T0)
    other_token = issuer.issue(client_id=CLIENT, scope=[], now=T0)
    revoked_jti: str = unsegment(revoked_token.split(".")[1])["jti"]
    asked: list[str] = []

    def is_revoked(jti: str, /) -> bool:
        asked.append(jti)
        return jti == revoked_jti

    validator = TokenValidator(ring, issuer=ISSUER, audience=AUDIENCE, is_revoked=is_revoked)

    # when both tokens are validated
    reason = refusal(validator, revoked_token)
    accepted = validator.validate(other_token, now=NOW)

    # then the revoked one is refused, the other accepted, and the denylist was asked about each jti
    assert reason == "revoked"
    assert asked == [revoked_jti, accepted.jti]


# --- keys: rotation, JWKS, persistence ---


def test_previous_key_verifies_while_retained_and_is_unknown_once_dropped(
    ring: KeyRing, issuer: TokenIssuer, validator: TokenValidator
) -> None:
    # given a token signed by the first key, and a rotation a minute later
    old_token = issuer.issue(client_id=CLIENT, scope=[], now=T0)
    old_kid = ring.current.kid
    ring.rotate(now=T0 + timedelta(minutes=1))

    # when new tokens are issued and the old token is validated
    new_token = issuer.issue(client_id=CLIENT, scope=[], now=T0 + timedelta(minutes=2))

    # then new tokens use the new key, the old key is still published and the old token still valid
    assert unsegment(new_token.split(".")[0])["kid"] == ring.current.kid != old_kid
    assert old_kid in {key["kid"] for key in ring.jwks()["keys"]}
    assert validator.validate(old_token, now=T0 + timedelta(minutes=2)).client_id == CLIENT
    validator.validate(new_token, now=T0 + timedelta(minutes=2))

    # when the ring rotates again after the old key's retention has passed
    ring.rotate(now=T0 + timedelta(minutes=1) + ring.retention)

    # then the old key is dropped and its token is refused for its key id
    assert old_kid not in {key["kid"] for key in ring.jwks()["keys"]}
    assert refusal(validator, old_token, now=T0 + timedelta(minutes=2)) == "unknown key id"


def test_retention_outlives_the_longest_token(ring: KeyRing) -> None:
    # given a ring, when an issuer asks for tokens that outlive the retention, then it is refused
    short = KeyRing.generate(now=T0, retention=timedelta(minutes=3))
    with pytest.raises(ValueError, match="outlive"):
        TokenIssuer(short, issuer=ISSUER, audience=AUDIENCE, lifetime=LIFETIME)
    # and the default retention covers the maximum lifetime
    assert ring.retention > MAX_LIFETIME


def test_jwks_publishes_public_keys_only(ring: KeyRing) -> None:
    # given a ring with a current and a retired key
    ring.rotate(now=T0 + timedelta(minutes=1))

    # when the JWKS is produced
    keys = ring.jwks()["keys"]

    # then each key is public, identified, and marked for ES256 signatures
    assert len(keys) == 2
    for key in keys:
        assert "d" not in key
        assert {key["kty"], key["crv"], key["alg"], key["use"]} == {"EC", "P-256", "ES256", "sig"}
        assert key["kid"]
    assert json.dumps(ring.jwks())  # serialisable as served


def test_key_ring_survives_to_json_and_from_json(ring: KeyRing, issuer: TokenIssuer) -> None:
    # given a ring with a retired key, and tokens signed by both of its keys
    old_token = issuer.issue(client_id=CLIENT, scope=[], now=T0)
    ring.rotate(now=T0 + timedelta(minutes=1))
    new_token = issuer.issue(client_id=CLIENT, scope=[], now=T0 + timedelta(minutes=1))

    # when the ring is persisted and loaded, as another worker would
    restored = KeyRing.from_json(ring.to_json())

    # then the restored ring validates both tokens, and signs tokens the original ring validates
    restored_validator = TokenValidator(restored, issuer=ISSUER, audience=AUDIENCE)
    restored_validator.validate(old_token, now=T0 + timedelta(minutes=2))
    restored_validator.validate(new_token, now=T0 + timedelta(minutes=2))
    restored_token = TokenIssuer(restored, issuer=ISSUER, audience=AUDIENCE, lifetime=LIFETIME).issue(
        client_id=CLIENT, scope=[], now=T0 + timedelta(minutes=2)
    )
    TokenValidator(ring, issuer=ISSUER, audience=AUDIENCE).validate(restored_token, now=T0 + timedelta(minutes=3))
    # and keeps each key's history, so retention still works after loading
    assert [(key.kid, key.retired_at) for key in restored.keys] == [(key.kid, key.retired_at) for key in ring.keys]
    assert restored.retention == ring.retention


def test_from_json_refuses_a_symmetric_key(ring: KeyRing) -> None:
    # given a persisted ring in which someone put an HMAC key
    data = json.loads(ring.to_json())
    data["keys"][0]["jwk"] = {"kty": "oct", "k": b64url(b"s" * 32), "alg": "HS256", "kid": "hmac"}

    # when it is loaded, then it is refused
    with pytest.raises(ValueError, match="cannot sign"):
        KeyRing.from_json(json.dumps(data))


def test_validator_reads_keys_from_a_jwks_provider(ring: KeyRing, issuer: TokenIssuer) -> None:
    # given a validator that only sees the published JWKS, as a separate resource server would
    validator = TokenValidator(lambda: ring.jwks(), issuer=ISSUER, audience=AUDIENCE)
    token = issuer.issue(client_id=CLIENT, scope=["purpose:audit"], now=T0)

    # when a token is validated, then it is accepted
    assert validator.validate(token, now=NOW).scope == ("purpose:audit",)


def test_jwks_keys_without_alg_or_symmetric_are_never_used(ring: KeyRing) -> None:
    # given a JWKS where our key lost its alg, an HMAC key was slipped in, and another one mislabelled ES256
    public = {name: value for name, value in ring.current.public_jwk().items() if name != "alg"}
    secret = b"s" * 32
    hmac_key = {"kty": "oct", "k": b64url(secret), "alg": "HS256", "kid": "hmac"}
    mislabelled = {"kty": "oct", "k": b64url(secret), "alg": "ES256", "kid": "mislabelled"}
    validator = TokenValidator(lambda: {"keys": [public, hmac_key, mislabelled]}, issuer=ISSUER, audience=AUDIENCE)
    es256_token = forge_es256(good_header(ring.current), good_claims(), ec_private_key(ring.current))
    hs256_header = {"typ": "at+jwt", "alg": "HS256", "kid": "hmac"}
    signing_input = f"{segment(hs256_header)}.{segment(good_claims())}"
    hs256_token = f"{signing_input}.{b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"

    mislabelled_header = {"typ": "at+jwt", "alg": "ES256", "kid": "mislabelled"}
    mislabelled_token = forge_es256(mislabelled_header, good_claims(), ec_private_key(ring.current))

    # when tokens naming each key are validated, then all are refused
    assert refusal(validator, es256_token) == "unknown key id"
    assert refusal(validator, hs256_token) == "alg not allowed"
    assert refusal(validator, mislabelled_token) == "unknown key id"


def test_rs256_key_ring_round_trips() -> None:
    # given a ring of RSA keys
    rsa_ring = KeyRing.generate(now=T0, algorithm="RS256")
    token = TokenIssuer(rsa_ring, issuer=ISSUER, audience=AUDIENCE, lifetime=LIFETIME).issue(
        client_id=CLIENT, scope=[], now=T0
    )

    # when a token is validated, then it is accepted and the JWKS holds no private member
    TokenValidator(rsa_ring, issuer=ISSUER, audience=AUDIENCE).validate(token, now=NOW)
    assert unsegment(token.split(".")[0])["alg"] == "RS256"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & rsa_ring.jwks()["keys"][0].keys()
