"""Registered clients: the secret shown once and stored as scrypt, one verify path for every failure, validation."""

from __future__ import annotations

import hmac
from typing import Any

import pytest
import sqlalchemy as sa

from auth import secret_hashing
from auth.clients import (
    ClientError,
    DuplicateClient,
    UnknownClient,
    check_secret,
    disable_client,
    hash_secret,
    list_clients,
    load_client,
    register_client,
    verify_client,
)
from auth.tables import oauth_client

NANAN: dict[str, Any] = {
    "client_id": "civil-affairs-nanan",
    "department": "civil_affairs",
    "roles": ["civil-affairs"],
    "regions": ["350583"],
    "purposes": ["assistance-review", "comparison"],
}


def test_the_secret_is_returned_once_and_only_its_scrypt_hash_is_stored(engine: sa.Engine) -> None:
    # when a client is registered
    client, secret = register_client(engine, **NANAN)
    # then the secret is long and random enough
    assert len(secret) >= 43
    # and the stored row holds a salted scrypt hash with its parameters, never the secret
    with engine.connect() as connection:
        row = connection.execute(sa.select(oauth_client)).mappings().one()
    assert secret not in " ".join(str(value) for value in row.values())
    scheme, n, r, p, salt, digest = row["secret_hash"].split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(salt) >= 22 and len(digest) >= 43
    # and the record says what was registered, with a 32-byte pseudonym key of its own
    assert client.roles == ("civil-affairs",) and client.regions == ("350583",)
    assert client.purposes == ("assistance-review", "comparison")
    assert len(client.pseudonym_key) == 32 and row["pseudonym_key"] == client.pseudonym_key.hex()
    assert load_client(engine, "civil-affairs-nanan") == client


def test_two_clients_get_different_secrets_salts_and_pseudonym_keys(engine: sa.Engine) -> None:
    first, first_secret = register_client(engine, **NANAN)
    second, second_secret = register_client(engine, **{**NANAN, "client_id": "civil-affairs-jinjiang"})
    assert first_secret != second_secret
    assert first.pseudonym_key != second.pseudonym_key
    # the same secret hashed twice gives two different strings (random salt), both verifying
    assert hash_secret("s") != hash_secret("s")
    assert check_secret("s", hash_secret("s")) and not check_secret("t", hash_secret("s"))


def test_verify_accepts_the_secret_and_refuses_everything_else(engine: sa.Engine) -> None:
    # given a registered client
    _client, secret = register_client(engine, **NANAN)
    # then its own secret verifies, and a wrong one, another id or a made-up id does not
    verified = verify_client(engine, "civil-affairs-nanan", secret)
    assert verified is not None and verified.client_id == "civil-affairs-nanan"
    assert verify_client(engine, "civil-affairs-nanan", secret[:-1]) is None
    assert verify_client(engine, "civil-affairs-jinjiang", secret) is None
    assert verify_client(engine, "no such client\x00", secret) is None
    # and once disabled, not even its own secret
    disable_client(engine, "civil-affairs-nanan", by="admin-wang")
    assert verify_client(engine, "civil-affairs-nanan", secret) is None
    disabled = load_client(engine, "civil-affairs-nanan")
    assert disabled is not None and disabled.disabled


def test_every_verify_outcome_runs_exactly_one_scrypt_and_a_constant_time_compare(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a registered client and a disabled one, and a count of the work each verify does
    _client, secret = register_client(engine, **NANAN)
    _other, other_secret = register_client(engine, **{**NANAN, "client_id": "disabled-client"})
    disable_client(engine, "disabled-client", by="admin-wang")
    secret_hashing.dummy_hash()  # computed once per process, before counting
    calls: list[str] = []
    real_scrypt, real_compare = secret_hashing._scrypt, hmac.compare_digest

    def counting_scrypt(*args: Any, **kwargs: Any) -> bytes:
        calls.append("scrypt")
        return real_scrypt(*args, **kwargs)

    def counting_compare(a: bytes, b: bytes) -> bool:
        calls.append("compare")
        return real_compare(a, b)

    monkeypatch.setattr(secret_hashing, "_scrypt", counting_scrypt)
    monkeypatch.setattr(secret_hashing.hmac, "compare_digest", counting_compare)
    attempts = {
        "right secret": ("civil-affairs-nanan", secret),
        "wrong secret": ("civil-affairs-nanan", "x" * 43),
        "unknown client": ("civil-affairs-xiamen", secret),
        "malformed client id": ("bad id:", secret),
        "disabled client": ("disabled-client", other_secret),
    }
    for outcome, (client_id, attempt) in attempts.items():
        calls.clear()
        # when it is verified
        verify_client(engine, client_id, attempt)
        # then the same work was done, whatever the outcome
        assert calls == ["scrypt", "compare"], outcome


def test_regions_are_normalised_to_prefixes(engine: sa.Engine) -> None:
    client, _ = register_client(engine, **{**NANAN, "regions": ["350500", "350583", "350000101000"]})
    # 350500 is Quanzhou (3505), which already holds 350583; 350000101000 is a township code with zeros
    assert client.regions == ("3505", "350000101")
    stored = load_client(engine, NANAN["client_id"])
    assert stored is not None and stored.regions == ("3505", "350000101")


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"client_id": ""}, "client id ''"),
        ({"client_id": "civil affairs"}, "client id 'civil affairs'"),
        ({"client_id": "x" * 101}, "1-100"),
        ({"department": "Civil Affairs"}, "department 'Civil Affairs'"),
        ({"roles": []}, "at least one role"),
        ({"roles": ["civil_affairs"]}, "role 'civil_affairs'"),
        ({"roles": [""]}, "role ''"),
        ({"purposes": []}, "at least one purpose"),
        ({"purposes": ["Audit"]}, "purpose 'Audit'"),
        ({"regions": []}, "at least one region"),
        ({"regions": ["3505x"]}, "region '3505x' is not a division code"),
        ({"regions": ["３５０５"]}, "not a division code"),
        ({"regions": ["350"]}, "2, 4, 6, 9 or 12 digits"),
    ],
)
def test_invalid_registrations_are_refused_saying_why(engine: sa.Engine, change: dict[str, Any], says: str) -> None:
    with pytest.raises(ClientError) as caught:
        register_client(engine, **{**NANAN, **change})
    assert says in str(caught.value)
    assert list_clients(engine) == []


def test_a_duplicate_client_id_is_refused_and_the_first_stays(engine: sa.Engine) -> None:
    first, secret = register_client(engine, **NANAN)
    with pytest.raises(DuplicateClient, match="'civil-affairs-nanan' is already registered"):
        register_client(engine, **{**NANAN, "department": "education"})
    assert list_clients(engine) == [first]
    assert verify_client(engine, "civil-affairs-nanan", secret) == first


def test_disabling_an_unknown_client_says_so(engine: sa.Engine) -> None:
    with pytest.raises(UnknownClient, match="no client 'nobody'"):
        disable_client(engine, "nobody", by="admin-wang")
