"""`aidgraph serve`: the address its OAuth metadata and tokens advertise is the one it serves."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from starlette.testclient import TestClient

from aidgraph.app import app_from_environment
from auth.server.routes import METADATA_PATH
from tests.access import register, token
from tests.auth.test_tokens import unsegment
from tests.test_cli_access import Command

CLIENT = "civil-affairs-assistance-review"


@pytest.fixture
def aidgraph(store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Command:
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    monkeypatch.delenv("AIDGRAPH_TOKEN_ISSUER", raising=False)  # and restored after the test, whatever serve set
    return Command(capsys, monkeypatch)


@pytest.fixture
def advertised(monkeypatch: pytest.MonkeyPatch, engine: sa.Engine) -> list[tuple[str, str]]:
    """(metadata issuer, a token's iss) of the app each `uvicorn.run` would have served; nothing listens."""
    seen: list[tuple[str, str]] = []
    secret = register(engine, CLIENT, roles=["civil-affairs"], purposes=["assistance-review"])

    def serve(app: str, **options: Any) -> None:
        assert (app, options["factory"]) == ("aidgraph.app:app_from_environment", True)
        with TestClient(app_from_environment()) as http:
            metadata = http.get(METADATA_PATH).json()
            claims = unsegment(token(http, CLIENT, secret).split(".")[1])
        seen.append((metadata["issuer"], claims["iss"]))

    monkeypatch.setattr(uvicorn, "run", serve)
    return seen


@pytest.mark.parametrize(
    ("address", "issuer"),
    [
        (["--port", "8123"], "http://127.0.0.1:8123"),
        (["--host", "localhost", "--port", "9001"], "http://localhost:9001"),
        (["--host", "::1", "--port", "8124"], "http://[::1]:8124"),
        ([], "http://127.0.0.1:8000"),
    ],
)
def test_without_an_issuer_serve_advertises_the_address_it_serves(
    aidgraph: Command, advertised: list[tuple[str, str]], address: list[str], issuer: str
) -> None:
    # given no AIDGRAPH_TOKEN_ISSUER, when the hub is served on a loopback address
    code, _out, err = aidgraph("serve", *address)
    # then its metadata and its tokens name that address
    assert code == 0, err
    assert advertised == [(issuer, issuer)]


def test_an_issuer_that_is_set_is_kept_whatever_the_port(
    aidgraph: Command, advertised: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the hub's public address behind TLS
    monkeypatch.setenv("AIDGRAPH_TOKEN_ISSUER", "https://hub.example.org")
    # when it is served on a local port
    code, _out, err = aidgraph("serve", "--port", "8123")
    # then it advertises the address it was given
    assert code == 0, err
    assert advertised == [("https://hub.example.org", "https://hub.example.org")]
