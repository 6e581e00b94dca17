"""People's passwords: scrypt hashes checked in constant time, one-time passwords, the rules for a new one."""

from __future__ import annotations

import hmac
from typing import Any

import pytest

from auth import secret_hashing
from auth.people.passwords import (
    MIN_LENGTH,
    PasswordError,
    check_new_password,
    check_password,
    hash_password,
    new_one_time_password,
)


def test_a_password_is_stored_as_a_salted_scrypt_hash_and_checked_against_it() -> None:
    # given a password hashed twice
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    # then the hashes differ (salt), hold no password, and both check
    assert first != second and "horse" not in first and first.startswith("scrypt$16384$8$1$")
    assert check_password("correct horse battery", first) and check_password("correct horse battery", second)
    # and another password does not
    assert not check_password("correct horse batterY", first)


def test_the_same_characters_typed_another_way_are_the_same_password() -> None:
    # given a password with full-width digits (as some input methods type them)
    stored = hash_password("密码口令１２３４５６７８")
    # then the half-width digits check too
    assert check_password("密码口令12345678", stored)


def test_an_unknown_person_costs_one_scrypt_and_a_constant_time_compare_like_a_wrong_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a stored hash, and a count of the work each check does
    stored = hash_password("correct horse battery")
    secret_hashing.dummy_hash()
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
    for outcome, encoded in {"right": stored, "no such person": None}.items():
        calls.clear()
        # when a password is checked against a person's hash, or against nobody's
        check_password("correct horse battery", encoded)
        # then the same work was done
        assert calls == ["scrypt", "compare"], outcome


def test_one_time_passwords_are_long_random_and_unambiguous() -> None:
    # when one-time passwords are made
    made = {new_one_time_password() for _ in range(50)}
    # then each is new, long enough to pass the rules, and free of look-alike characters
    assert len(made) == 50
    for password in made:
        assert len(password) >= MIN_LENGTH and not set(password) & set("01ilo")
        check_new_password(password, name="wang-fang")


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("short-one", "at least 12 characters"),
        ("x" * 257, "at most 256 characters"),
        ("Wang-Fang-Admin", "must not be your name"),
    ],
)
def test_a_new_password_that_breaks_a_rule_is_refused_saying_which(password: str, says: str) -> None:
    # given a person named wang-fang-admin, when they choose this password, then it is refused, saying why
    with pytest.raises(PasswordError, match=says):
        check_new_password(password, name="wang-fang-admin")


def test_the_one_time_password_cannot_be_kept_as_the_new_one() -> None:
    # given a person's one-time password
    one_time = new_one_time_password()
    # when they choose it again as their own, then it is refused
    with pytest.raises(PasswordError, match="differ from the one-time password"):
        check_new_password(one_time, name="wang-fang", current_hash=hash_password(one_time))
    # and any other good password is accepted
    check_new_password("a much longer passphrase", name="wang-fang", current_hash=hash_password(one_time))
