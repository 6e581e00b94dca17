"""Run by test_new_department in a fresh interpreter: one request to the secured hub, employment registered.

A fresh interpreter because strawberry fixes a type's fields when its class is made: Person gets a
field per part registered before `schema.registry` is first imported, and the test session has long
imported it. So this registers the department first, then makes the hub. It reads the request as JSON
on stdin (store, client, secret, purpose, query, variables) and prints the response body as JSON.
"""

from __future__ import annotations

import json
import sys

from tests.departments import employment


def main() -> None:
    asked = json.load(sys.stdin)
    employment.register()
    from starlette.testclient import TestClient

    from aidgraph.app import create_app
    from aidgraph.settings import Settings
    from tests.access import post, token

    with TestClient(create_app(Settings(database_url=asked["store"], token_rate_limit=0))) as http:
        bearer = token(http, asked["client"], asked["secret"])
        body = post(http, asked["query"], bearer, purpose=asked["purpose"], **asked["variables"])
    json.dump(body, sys.stdout)


if __name__ == "__main__":
    main()
