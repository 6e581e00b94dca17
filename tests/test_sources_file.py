"""The sources file: database and HTTP entries, credentials from the environment, and what it refuses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.catalog import DEPARTMENTS
from adapters.http_source import HttpSource
from adapters.sources import DatabaseSource
from adapters.store import LoadRequest
from aidgraph.sources import SourcesFileError, load_live_sources
from tests.department_api import DepartmentApi, serving
from tests.world import SMALL_HEAD, write_world

SECRET = "s3cr3t-token-of-the-department"


@pytest.fixture
def medical_api(tmp_path: Path) -> Iterator[DepartmentApi]:
    api = DepartmentApi.from_exports(DEPARTMENTS["medical"], write_world(tmp_path / "world") / "medical")
    with serving(api):
        yield api


def sources_file(folder: Path, text: str) -> Path:
    path = folder / "sources.yaml"
    path.write_text(text)
    return path


def ask_once(source: object) -> None:
    assert isinstance(source, HttpSource)
    source.fetch_now([LoadRequest(DEPARTMENTS["medical"].file("jsxx"), "id_number", [SMALL_HEAD])])
    source.dispose()


def test_an_http_department_sends_the_token_named_by_its_variable(tmp_path: Path, medical_api: DepartmentApi) -> None:
    # given a sources file naming the variable that holds medical's token, and a database department beside it
    path = sources_file(
        tmp_path,
        "departments:\n"
        f"  medical: {{kind: http, base_url: '{medical_api.url}', token_env: MEDICAL_API_TOKEN,"
        " read_timeout_seconds: 3}\n"
        f"  disability: {{url: 'sqlite:///{tmp_path / 'cjr.db'}'}}\n",
    )
    # when it is loaded with that variable set, and medical is asked
    sources = load_live_sources(path, environment={"MEDICAL_API_TOKEN": SECRET})
    medical = sources["medical"]
    ask_once(medical)
    sources["disability"].dispose()
    # then the department received the token as a bearer token, and the source never shows it
    assert medical_api.headers_seen[0]["Authorization"] == f"Bearer {SECRET}"
    assert SECRET not in repr(medical) and SECRET not in repr(medical.health())
    assert isinstance(sources["disability"], DatabaseSource)


def test_an_http_department_may_take_a_header_of_its_own(tmp_path: Path, medical_api: DepartmentApi) -> None:
    path = sources_file(
        tmp_path,
        "departments:\n"
        f"  medical: {{kind: http, base_url: '{medical_api.url}', header: X-Api-Key, header_env: MEDICAL_KEY}}\n",
    )
    ask_once(load_live_sources(path, environment={"MEDICAL_KEY": SECRET})["medical"])
    assert medical_api.headers_seen[0]["X-Api-Key"] == SECRET


@pytest.mark.parametrize(
    ("entry", "fault"),
    [
        (
            "{kind: http, base_url: 'https://api.medical.example', token: abc}",
            "departments.medical: token would put a secret in the file; name an environment variable",
        ),
        (
            "{kind: http, base_url: 'http://api.medical.example'}",
            "departments.medical: base_url must be https (plain http only on loopback)",
        ),
        (
            "{kind: http, base_url: 'https://reader:pw@api.medical.example'}",
            "departments.medical: base_url must not hold credentials",
        ),
        (
            "{kind: http, base_url: 'https://api.medical.example', token_env: NOT_SET_ANYWHERE}",
            "departments.medical: the environment variable NOT_SET_ANYWHERE is not set",
        ),
        (
            "{kind: http, base_url: 'https://api.medical.example', read_timeout_seconds: 0}",
            "departments.medical: read_timeout_seconds must be a number of seconds above 0, at most 300",
        ),
        (
            "{kind: http, base_url: 'https://api.medical.example', header: X-Api-Key}",
            "departments.medical: header and header_env go together",
        ),
        (
            "{kind: http, url: 'https://api.medical.example'}",
            "departments.medical: unknown keys url for kind http",
        ),
        ("{kind: soap, url: 'https://api.medical.example'}", "departments.medical: kind must be database or http"),
        ("{kind: http}", "departments.medical needs a 'base_url'"),
        ("{url: 'sqlite://', timeout_seconds: soon}", "departments.medical: timeout_seconds must be a number"),
    ],
)
def test_a_sources_file_that_cannot_be_used_is_refused_saying_where_and_why(
    tmp_path: Path, entry: str, fault: str
) -> None:
    # given a sources file with one faulty entry
    path = sources_file(tmp_path, f"departments:\n  medical: {entry}\n")
    # when it is loaded, then it is refused, naming the file, the entry and the fault
    with pytest.raises(SourcesFileError) as refused:
        load_live_sources(path, environment={})
    assert str(refused.value).startswith(f"{path}: {fault}")
