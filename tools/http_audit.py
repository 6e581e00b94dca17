"""The GraphQL over HTTP audit suite (npm `graphql-http`, pinned in tests/graphql_http_audit/): install it, run it.

`python -m tools.http_audit install` installs the pinned packages once (`.ci/run` does, and the test's
set-up does when they are missing or differ from the lock file); `run_audits` runs every server audit
against a served hub's `/graphql` with a bearer token and returns one result per audit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

AUDIT_DIR = Path(__file__).resolve().parents[1] / "tests" / "graphql_http_audit"
SCRIPT = AUDIT_DIR / "audit.mjs"


class AuditSuiteUnavailable(RuntimeError):
    """Node, npm or the pinned packages are missing and cannot be installed."""


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise AuditSuiteUnavailable(
            f"{name} not found: install Node.js and npm (e.g. apt-get install nodejs npm, as .ci/run does)"
        )
    return found


def missing_packages() -> list[str]:
    """The packages of the lock file that node_modules lacks or holds at another version."""
    lock = json.loads((AUDIT_DIR / "package-lock.json").read_text(encoding="utf-8"))
    missing = []
    for path, entry in lock["packages"].items():
        if not path:  # the folder's own entry
            continue
        installed = AUDIT_DIR / path / "package.json"
        version = json.loads(installed.read_text(encoding="utf-8"))["version"] if installed.exists() else None
        if version != entry["version"]:
            missing.append(f"{path.removeprefix('node_modules/')}@{entry['version']}")
    return missing


def install() -> None:
    """`npm ci` in the audit folder unless what it holds already matches the lock file."""
    _tool("node")
    if not missing_packages():
        return
    # npm ci installs exactly the lock file (integrity hashes included), never a newer version.
    subprocess.run([_tool("npm"), "ci", "--no-audit", "--no-fund"], cwd=AUDIT_DIR, check=True)
    still_missing = missing_packages()
    if still_missing:
        raise AuditSuiteUnavailable(f"npm ci left these packages missing: {', '.join(still_missing)}")


def run_audits(url: str, token: str, *, timeout: float = 120) -> list[dict[str, Any]]:
    """Every server audit's result against `url`: id, name, status, and for one that is not ok its
    reason and the answer (status, content type, body)."""
    environment = {**os.environ, "AUDIT_URL": url, "AUDIT_TOKEN": token}  # the token not on a command line
    done = subprocess.run(
        [_tool("node"), str(SCRIPT)], cwd=AUDIT_DIR, env=environment, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise AuditSuiteUnavailable(f"the audit script failed (exit {done.returncode}): {done.stderr.strip()}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: python -m tools.http_audit install")
    install()
