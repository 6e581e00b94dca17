"""The README and docs/ stand inside the repository: no link or path in them leads outside it."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPOSITORY / "README.md", *sorted((REPOSITORY / "docs").glob("*.md"))]

# The design notes and policy texts the project was written from live beside the repository, not
# in it: a reader has none of them, so the docs say what those held instead of pointing at them.
OUTSIDE_NAMES = (
    re.compile(r"\b(DESIGN|STYLE)\.md\b"),
    re.compile(r"\bDESIGN\s*§"),
    re.compile(r"\bspec/departments\.md\b"),
    re.compile(r"\.\./shared\b"),
    re.compile(r"\bseeds?(/|\s+0\d\d\b)", re.IGNORECASE),
)
# Top-level folders that hold a machine's own files. The system's software folders (/usr, /etc,
# /dev, ...) are not among them: saying where installed software lives points at no one's files,
# and HTTP paths such as /graphql or /oauth/token are not filesystem paths at all.
_MACHINE_FOLDERS = "home|root|tmp|work|mnt|media|srv|opt|var|run|Users|Volumes|private|data"
ABSOLUTE_PATH = re.compile(rf"(?<![\w.:/~-])/(?:{_MACHINE_FOLDERS})\b|(?<![\w/])~/|\b[A-Za-z]:\\")
PARENT_PATH = re.compile(r"(?<![\w./-])(?:\.\./)+[^\s`'\"()\[\]<>]*")

INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?", re.MULTILINE)
HTML_LINK = re.compile(r"\b(?:href|src)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
FENCED_BLOCK = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)
SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
WEB_SCHEMES = {"http", "https", "mailto"}

SAMPLE_DOCUMENT = REPOSITORY / "docs" / "sample.md"
OUTSIDE_REFERENCES = [
    "Design and domain rules: [`../shared/DESIGN.md`](../shared/DESIGN.md);",
    "the formats of `spec/departments.md`",
    "as DESIGN §4 says",
    "under DESIGN§3",
    "who qualifies for aid without applying (seed 001)",
    "Seed 000's Annex 2 for one county",
    "the policy texts in seeds/README.md",
    "read `/work/shared/STYLE.md` first",
    "written to /tmp/aidgraph-notes.txt",
    "kept in ~/aidgraph/notes.md",
    r"copied to C:\aidgraph\notes.md",
    "[the plan](plan-that-is-not-here.md)",
    "[the ledger](../README.md#no-such-heading)",
    "[access](/docs/access.md)",
    "[passwords](file:///etc/passwd)",
    "[notes](../../notes.md)",
    "the notes in `../../notes.md`",
    '<a href="../../notes.html">notes</a>',
    "[notes]: ../../notes.md",
]
IN_REPOSITORY_REFERENCES = [
    "[access](access.md#the-audit-trail)",
    "[the benchmark's query](../bench/household.graphql)",
    "[README](../README.md#quickstart)",
    "[RFC 6749](https://www.rfc-editor.org/rfc/rfc6749#section-4.4)",
    "serves `http://127.0.0.1:8000/graphql`, tokens from `POST /oauth/token`",
    "`GET /.well-known/jwks.json`, `/healthz` and `/students/export?region=R`",
    "it starts PostgreSQL from `/usr/lib/postgresql/*/bin`",
    "`aidgraph demo --out DIR [--households N] [--seed S]`",
    "the 556 Annex 2 households; `.ci/run` runs the suite",
    "```\n[not a link](nowhere.md)\n```",
]


def outside_references(text: str, *, document: Path) -> list[str]:
    """Every place in `text` (the contents of `document`) that names or links to something outside the repository."""
    found: list[tuple[int, str]] = []
    for pattern in (*OUTSIDE_NAMES, ABSOLUTE_PATH):
        found += [(_line(text, match.start()), repr(match[0])) for match in pattern.finditer(text)]
    for match in PARENT_PATH.finditer(text):
        if not _inside(document.parent / match[0]):
            found.append((_line(text, match.start()), f"{match[0]!r} leaves the repository"))
    # A code block shows text as it is: what looks like a link in it is not one.
    prose = FENCED_BLOCK.sub(lambda block: "\n" * block[0].count("\n"), text)
    for pattern in (INLINE_LINK, REFERENCE_LINK, HTML_LINK):
        for match in pattern.finditer(prose):
            problem = _link_problem(match[1], document=document)
            if problem is not None:
                found.append((_line(prose, match.start()), f"link {match[1]!r} {problem}"))
    return [f"line {line}: {what}" for line, what in sorted(set(found))]


def _link_problem(target: str, *, document: Path) -> str | None:
    scheme = SCHEME.match(target)
    if scheme is not None:
        return None if scheme[1].lower() in WEB_SCHEMES else "is not a web address"
    if target.startswith("//"):
        return None
    path, _, fragment = target.partition("#")
    if path.startswith("/"):
        return "is an absolute path"
    resolved = (document.parent / unquote(path)) if path else document
    if not _inside(resolved):
        return "leaves the repository"
    if not resolved.exists():
        return "names no file of the repository"
    if fragment and resolved.suffix == ".md" and unquote(fragment) not in heading_anchors(resolved.read_text()):
        return f"names no heading of {resolved.relative_to(REPOSITORY)}"
    return None


def heading_anchors(text: str) -> set[str]:
    """The anchors a Markdown renderer gives the headings (lower case, punctuation dropped, spaces to -)."""
    anchors: set[str] = set()
    seen: Counter[str] = Counter()
    prose = FENCED_BLOCK.sub("", text)
    for heading in re.finditer(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", prose, re.MULTILINE):
        words = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading[1])
        slug = re.sub(r"[^\w\- ]", "", words.strip().lower()).replace(" ", "-")
        anchors.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return anchors


def _inside(path: Path) -> bool:
    return path.resolve().is_relative_to(REPOSITORY)


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def test_the_readme_and_every_doc_are_checked() -> None:
    # given the documents the check reads, then the README and the docs folder are among them
    names = {document.relative_to(REPOSITORY).as_posix() for document in DOCUMENTS}
    assert {"README.md", "docs/architecture.md", "docs/domain.md", "docs/departments.md"} <= names


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: document.relative_to(REPOSITORY).as_posix())
def test_no_document_leads_outside_the_repository(document: Path) -> None:
    # given a document of the repository, when its names, paths and links are checked
    found = outside_references(document.read_text(), document=document)
    # then none of them leads outside the repository
    assert not found, "\n".join(found)


@pytest.mark.parametrize("sample", OUTSIDE_REFERENCES)
def test_the_check_finds_each_kind_of_outside_reference(sample: str) -> None:
    # given a line that names, links or points outside the repository, when it is checked
    found = outside_references(sample, document=SAMPLE_DOCUMENT)
    # then it is found
    assert found, sample


@pytest.mark.parametrize("sample", IN_REPOSITORY_REFERENCES)
def test_the_check_lets_in_repository_links_web_addresses_and_http_paths_pass(sample: str) -> None:
    # given a line whose links and paths stay in the repository or are web addresses, when it is checked
    found = outside_references(sample, document=SAMPLE_DOCUMENT)
    # then nothing is found
    assert found == []


def test_an_absolute_link_is_found_even_when_it_names_a_file_of_the_repository() -> None:
    # given a link by absolute path to this checkout's README (it works on this machine only)
    sample = f"[the README]({(REPOSITORY / 'README.md').as_posix()})"
    # when it is checked
    found = outside_references(sample, document=SAMPLE_DOCUMENT)
    # then the link itself is found, not only because of where this checkout happens to be
    assert any("is an absolute path" in finding for finding in found), found
