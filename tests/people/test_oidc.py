"""Single sign-on against a local OpenID provider that each test serves: the round trip, and every refusal."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from auth.people.oidc import (
    JWKS_REFETCH_INTERVAL_SECONDS,
    InvalidOidcSettings,
    OidcError,
    OidcSettings,
    Pending,
    Provider,
    begin,
    finish,
    pending_from_cookie,
    pending_to_cookie,
)
from tools.oidc_issuer import DEFAULT_REDIRECT_URI, Fault, LocalIssuer, serve_issuer

COOKIE_KEY = b"k" * 32
ProviderOf = Callable[..., Provider]


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    local = LocalIssuer()
    with serve_issuer(local):
        yield local


@pytest.fixture
def browser() -> Iterator[httpx2.Client]:
    # a person's browser: it is sent to the issuer and comes back with the redirect, which the test reads
    with httpx2.Client(timeout=10, follow_redirects=False) as client:
        yield client


@pytest.fixture
def provider_of() -> Iterator[ProviderOf]:
    """Providers of the issuer, each with its own HTTP client, all closed at the end."""
    made: list[Provider] = []

    def provider(served: LocalIssuer, clock: Callable[[], float] = time.monotonic, **settings: str) -> Provider:
        values = {"issuer": served.url, "client_id": served.client_id, "redirect_uri": served.redirect_uri}
        made.append(Provider(OidcSettings(**(values | settings)), clock=clock))
        return made[-1]

    yield provider
    for each in made:
        each.close()


def to_the_issuer_and_back(provider: Provider, browser: httpx2.Client) -> tuple[Pending, dict[str, str]]:
    """begin, then the browser at the issuer's /authorize: the pending sign-in and the callback's parameters."""
    url, pending = begin(provider)
    answer = browser.get(url)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(DEFAULT_REDIRECT_URI + "?")
    return pending, {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_a_person_signs_in_through_the_issuer_and_finish_names_them(
    issuer: LocalIssuer, browser: httpx2.Client, provider_of: ProviderOf, algorithm: str
) -> None:
    # given a hub registered as a public client (PKCE alone), an issuer signing with the algorithm,
    # and a person the issuer signs in
    issuer.algorithm = algorithm
    issuer.rotate_key()
    provider = provider_of(issuer)
    issuer.user = "chen.mei"
    # when they go to the issuer and come back with a code
    pending, callback = to_the_issuer_and_back(provider, browser)
    # then finish exchanges it and returns their user name from preferred_username
    assert finish(provider, pending, code=callback["code"], state=callback["state"]) == "chen.mei"
    assert issuer.client_authentications == ["none"]


def test_a_client_with_a_secret_authenticates_with_basic(
    issuer: LocalIssuer, browser: httpx2.Client, provider_of: ProviderOf
) -> None:
    # given a confidential client whose secret has characters that must be form-encoded
    issuer.client_secret = "s3cret:with/odd+chars"
    provider = provider_of(issuer, client_secret="s3cret:with/odd+chars")
    # when the person signs in
    pending, callback = to_the_issuer_and_back(provider, browser)
    # then the code is exchanged with client_secret_basic
    assert finish(provider, pending, code=callback["code"], state=callback["state"]) == "wang.li"
    assert issuer.client_authentications == ["client_secret_basic"]


def test_a_wrong_client_secret_is_refused_by_the_issuer(
    issuer: LocalIssuer, browser: httpx2.Client, provider_of: ProviderOf
) -> None:
    # given a hub configured with another secret than the issuer holds
    issuer.client_secret = "the-right-one"
    provider = provider_of(issuer, client_secret="a-wrong-one")
    pending, callback = to_the_issuer_and_back(provider, browser)
    # when it exchanges the code, then the issuer's refusal is an OidcError naming its error code
    with pytest.raises(OidcError, match=r"refused the authorization code \(invalid_client\)"):
        finish(provider, pending, code=callback["code"], state=callback["state"])


def test_the_authorization_request_carries_pkce_s256_state_and_nonce(
    issuer: LocalIssuer, provider_of: ProviderOf
) -> None:
    # given a provider
    provider = provider_of(issuer)
    # when two sign-ins begin
    url, pending = begin(provider)
    _, other = begin(provider)
    # then the URL sends the S256 challenge of a 43-128 character verifier, the state and the nonce
    asked = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{issuer.url}/authorize?")
    assert 43 <= len(pending.code_verifier) <= 128
    assert asked["code_challenge"] == create_s256_code_challenge(pending.code_verifier)
    assert asked["code_challenge_method"] == "S256"
    assert (asked["state"], asked["nonce"], asked["response_type"]) == (pending.state, pending.nonce, "code")
    assert asked["scope"] == "openid profile"
    assert asked["redirect_uri"] == issuer.redirect_uri
    # and every sign-in has its own secrets
    assert {other.state, other.nonce, other.code_verifier}.isdisjoint(
        {pending.state, pending.nonce, pending.code_verifier}
    )


def test_a_wrong_code_verifier_is_refused_by_the_issuer(
    issuer: LocalIssuer, browser: httpx2.Client, provider_of: ProviderOf
) -> None:
    # given a code obtained for one verifier
    provider = provider_of(issuer)
    pending, callback = to_the_issuer_and_back(provider, browser)
    _, someone_elses = begin(provider)
    # when it is exchanged with another sign-in's verifier
    stolen = replace(pending, code_verifier=someone_elses.code_verifier)
    # then the issuer refuses it
    with pytest.raises(OidcError, match=r"\(invalid_grant\)"):
        finish(provider, stolen, code=callback["code"], state=callback["state"])


def test_a_code_is_exchanged_once_only(issuer: LocalIssuer, browser: httpx2.Client, provider_of: ProviderOf) -> None:
    # given a sign-in that finished
    provider = provider_of(issuer)
    pending, callback = to_the_issuer_and_back(provider, browser)
    finish(provider, pending, code=callback["code"], state=callback["state"])
    # when its code is sent again, then the issuer refuses it
    with pytest.raises(OidcError, match=r"\(invalid_grant\)"):
        finish(provider, pending, code=callback["code"], state=callback["state"])


def test_a_callback_with_another_state_is_refused_before_the_code_is_used(
    issuer: LocalIssuer, browser: httpx2.Client, provider_of: ProviderOf
) -> None:
    # given a callback whose state is not the pending sign-in's (a forged or crossed callback)
    provider = provider_of(issuer)
    pending, callback = to_the_issuer_and_back(provider, browser)
    # when it is finished, then it is refused, and the code never reached the token endpoint
    with pytest.raises(OidcError, match="another state"):
        finish(provider, pending, code=callback["code"], state=callback["state"][:-1] + "x")
    assert "POST /token" not in issuer.requests


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault.WRONG_NONCE, "nonce is not this sign-in's"),
        (Fault.WRONG_AUDIENCE, "audience is not this hub's client"),
        (Fault.SEVERAL_AUDIENCES, "several audiences and no authorized party"),
        (Fault.WRONG_ISSUER, "issuer is not the configured one"),
        (Fault.EXPIRED, "has expired"),
        (Fault.BAD_SIGNATURE, "signature does not verify"),
        (Fault.ALG_NONE, "signing algorithm is not allowed"),
        (Fault.HS256_WITH_PUBLIC_KEY, "signing algorithm is not allowed"),
    ],
)
def test_an_id_token_that_is_wrong_in_one_way_is_refused_without_showing_it(
    issuer: LocalIssuer, browser: httpx2.Client, fault: Fault, message: str, provider_of: ProviderOf
) -> None:
    # given an issuer whose ID tokens have one fault
    provider = provider_of(issuer)
    issuer.faults.add(fault)
    pending, callback = to_the_issuer_and_back(provider, browser)
    # when the code is exchanged, then the token is refused with a reason
    with pytest.raises(OidcError, match=message) as refused:
        finish(provider, pending, code=callback["code"], state=callback["state"])
    # and the message holds nothing of the token, the code, the person or the sign-in's secrets
    said = str(refused.value)
    for secret in (callback["code"], pending.nonce, pending.state, issuer.user, "eyJ"):
        assert secret not in said


def test_a_key_rotated_in_at_the_issuer_is_fetched_once(
    issuer: LocalIssuer, browser: httpx2.Client, provider_of: ProviderOf
) -> None:
    # given a provider that already holds the issuer's key set
    seconds = [0.0]
    provider = provider_of(issuer, clock=lambda: seconds[0])
    pending, callback = to_the_issuer_and_back(provider, browser)
    finish(provider, pending, code=callback["code"], state=callback["state"])
    assert issuer.requests.count("GET /jwks") == 1
    # when the issuer signs with a new key, moments after the set was fetched
    issuer.rotate_key()
    pending, callback = to_the_issuer_and_back(provider, browser)
    # then the set is not fetched again yet (tokens naming unknown keys cannot make the hub fetch in a loop)
    with pytest.raises(OidcError, match="a key the issuer does not publish"):
        finish(provider, pending, code=callback["code"], state=callback["state"])
    assert issuer.requests.count("GET /jwks") == 1
    # and ten seconds on, the unknown kid fetches it once more, and the sign-in succeeds
    seconds[0] += JWKS_REFETCH_INTERVAL_SECONDS
    pending, callback = to_the_issuer_and_back(provider, browser)
    assert finish(provider, pending, code=callback["code"], state=callback["state"]) == "wang.li"
    assert issuer.requests.count("GET /jwks") == 2
    # and discovery was read once for all of it
    assert issuer.requests.count("GET /.well-known/openid-configuration") == 1


def test_a_discovery_document_naming_another_issuer_is_refused(issuer: LocalIssuer, provider_of: ProviderOf) -> None:
    # given a hub configured with an issuer URL that differs from the one the issuer states (a trailing slash)
    provider = provider_of(issuer, issuer=issuer.url + "/")
    # when a sign-in begins, then it is refused
    with pytest.raises(OidcError, match="names another issuer"):
        begin(provider)


def test_the_pending_cookie_comes_back_as_it_was_made() -> None:
    # given a pending sign-in
    # when it goes to the cookie and back, then it is the same
    made, pending = _pending()
    assert pending_from_cookie(pending_to_cookie(pending, COOKIE_KEY), COOKIE_KEY, now=made) == pending


def test_a_tampered_or_foreign_pending_cookie_is_refused() -> None:
    # given a pending cookie
    made, pending = _pending()
    cookie = pending_to_cookie(pending, COOKIE_KEY)
    assert pending_from_cookie(cookie, COOKIE_KEY, now=made) == pending
    payload, mac = cookie.split(".")
    other = pending_to_cookie(replace(pending, state="chosen-by-an-attacker"), b"x" * 32)
    # when it is altered, cut, or made with another key, then it is refused
    for refused in (
        payload[:-2] + "AA" + "." + mac,
        payload + "." + mac[:-1] + ("A" if mac[-1] != "A" else "B"),
        payload,
        other,
        cookie + "." + mac,
        "",
    ):
        assert pending_from_cookie(refused, COOKIE_KEY, now=made) is None, refused


def test_an_old_pending_cookie_is_refused() -> None:
    # given a pending cookie made at `made`
    made, pending = _pending()
    cookie = pending_to_cookie(pending, COOKIE_KEY)
    # when it comes back within its ten minutes, it is accepted; after them, or from the future, refused
    assert pending_from_cookie(cookie, COOKIE_KEY, now=made + timedelta(seconds=600)) == pending
    assert pending_from_cookie(cookie, COOKIE_KEY, now=made + timedelta(seconds=601)) is None
    assert pending_from_cookie(cookie, COOKIE_KEY, max_age=60, now=made + timedelta(seconds=61)) is None
    assert pending_from_cookie(cookie, COOKIE_KEY, now=made - timedelta(minutes=5)) is None


def test_settings_refuse_what_cannot_be_used() -> None:
    # given settings of a deployment, then an issuer in plain http beyond loopback, or none at all, is refused
    good = {"issuer": "https://sso.example.gov.cn/realms/hub", "client_id": "hub", "redirect_uri": "https://hub/cb"}
    assert OidcSettings(**good).scopes == "openid profile"
    for field, value in (
        ("issuer", "http://sso.example.gov.cn"),
        ("redirect_uri", "http://hub.example/cb"),
        ("client_id", ""),
        ("client_secret", ""),
        ("scopes", "profile"),
    ):
        with pytest.raises(InvalidOidcSettings) as refused:
            OidcSettings(**(good | {field: value}))
        assert refused.value.field == field
    # and a secret never prints
    assert "hidden" not in repr(OidcSettings(**good, client_secret="hidden"))


def _pending() -> tuple[datetime, Pending]:
    made = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    return made, Pending(state="s" * 43, nonce="n" * 43, code_verifier="v" * 64, created_at=made)


def test_an_issuer_that_does_not_answer_is_an_oidc_error(issuer: LocalIssuer, provider_of: ProviderOf) -> None:
    # given a provider whose issuer has stopped (nothing listens on its port any more)
    provider = provider_of(issuer)
    with serve_issuer(LocalIssuer()) as gone:
        pass
    stopped = provider_of(issuer, issuer=gone)
    # when a sign-in begins, then it is an OidcError saying what could not be fetched
    with pytest.raises(OidcError, match="discovery could not be fetched"):
        begin(stopped)
    # and the issuer that answers is not affected
    assert begin(provider)[0].startswith(issuer.url)
