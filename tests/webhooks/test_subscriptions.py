"""Subscribing a client: who may, to which URLs, in which regions, and where the secret is (not) shown."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from auth.clients import disable_client, register_client
from tests.webhooks.support import CLIENT, TERM, register_student_aid
from webhooks.subscriptions import SubscriptionError, intersect_regions, list_subscriptions, subscribe
from webhooks.tables import webhook_subscription


def test_a_subscription_keeps_its_secret_to_sign_with_and_never_lists_it(engine: sa.Engine) -> None:
    # given the student-aid client
    register_student_aid(engine)
    # when it subscribes without choosing a secret
    made, secret = subscribe(engine, client_id=CLIENT, url="https://aid.example.org/hooks", terms=[TERM, TERM])
    # then a secret is made and shown once, stored for signing, and absent from what is listed
    assert secret.startswith("whsec_") and len(secret) > 40
    [listed] = list_subscriptions(engine, client_id=CLIENT)
    assert listed == made and listed.terms == (TERM,) and listed.regions is None
    assert secret not in repr(listed) and not hasattr(listed, "secret")
    with engine.connect() as connection:
        stored = connection.execute(sa.select(webhook_subscription.c.secret)).scalar_one()
    assert stored == secret


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"client_id": "nobody"}, "no client"),
        ({"url": "http://aid.example.org/hooks"}, "use https"),
        ({"url": "ftp://aid.example.org/hooks"}, "http"),
        ({"url": "https://user:pw@aid.example.org/hooks"}, "credentials"),
        ({"terms": ["2026-2028-1"]}, "term"),
        ({"terms": []}, "at least one term"),
        ({"regions": ["350100"]}, "not within"),
        ({"secret": "short"}, "at least 24"),
    ],
)
def test_a_subscription_that_cannot_be_made_says_why(
    engine: sa.Engine, options: dict[str, object], problem: str
) -> None:
    # given the student-aid client (regions 3505)
    register_student_aid(engine)
    arguments: dict[str, object] = {"client_id": CLIENT, "url": "https://aid.example.org/hooks", "terms": [TERM]}
    # when it asks for something out of bounds, then it is refused, saying what is wrong
    with pytest.raises(SubscriptionError, match=problem):
        subscribe(engine, **{**arguments, **options})  # type: ignore[arg-type]


def test_only_enabled_clients_allowed_the_student_aid_purpose_may_subscribe(engine: sa.Engine) -> None:
    # given a housing client and a disabled student-aid client
    register_client(
        engine, client_id="housing", department="housing", roles=["housing"], regions=["3505"], purposes=["comparison"]
    )
    register_student_aid(engine)
    disable_client(engine, CLIENT, by="admin-wang")
    # when either subscribes, then both are refused
    with pytest.raises(SubscriptionError, match="purpose 'student-aid'"):
        subscribe(engine, client_id="housing", url="https://h.example.org/", terms=[TERM])
    with pytest.raises(SubscriptionError, match="disabled"):
        subscribe(engine, client_id=CLIENT, url="https://aid.example.org/", terms=[TERM])


def test_plain_http_is_for_this_machine_or_when_allowed(engine: sa.Engine) -> None:
    # given the student-aid client, when it subscribes over plain http to localhost, or elsewhere when allowed
    register_student_aid(engine)
    local, _ = subscribe(engine, client_id=CLIENT, url="http://127.0.0.1:8080/hooks", terms=[TERM])
    allowed, _ = subscribe(engine, client_id=CLIENT, url="http://aid.internal/hooks", terms=[TERM], allow_http=True)
    # then both are made, a narrower region kept as asked
    narrowed, _ = subscribe(engine, client_id=CLIENT, url="https://aid.example.org/", terms=[TERM], regions=["350583"])
    assert (local.url, allowed.url, narrowed.regions) == (
        "http://127.0.0.1:8080/hooks",
        "http://aid.internal/hooks",
        ("350583",),
    )


def test_regions_intersect_as_prefixes() -> None:
    # given a client's regions and a subscription's, then what both cover is kept, the narrower prefix each time
    assert intersect_regions(["3505"], None) == ("3505",)
    assert intersect_regions(["3505"], ["350583", "350100"]) == ("350583",)
    assert intersect_regions(["350583", "350524"], ["35"]) == ("350583", "350524")
    assert intersect_regions(["3501"], ["3505"]) == ()
