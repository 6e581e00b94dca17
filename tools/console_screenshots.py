"""The screenshots of docs/console.md, made by the browser the tests drive, on a small demo of its own.

    .venv/bin/python -m tools.console_screenshots [--out docs/images/console]

A fresh SQLite store in a temporary folder gets a small demo (ingested, compared and scanned as of the
demo's day, the demo policy live) and one person per kind of work; the console is served on loopback
and each main page is visited as its person would, in Chinese, and saved as a PNG. Tests never write
under docs/: this command does, when the pages change.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

DEFAULT_OUT = Path("docs/images/console")
HOUSEHOLDS = 600


def prepare_store(folder: Path) -> tuple[str, sa.Engine]:
    """A migrated SQLite store holding a small demo, its comparison run and scan, and the demo policy."""
    from adapters.catalog import DEPARTMENTS
    from adapters.ingest import ingest_folder
    from aidgraph.cli.warnings import run_scan
    from aidgraph.db import create_engine, migrate
    from auth.demo_access import ensure_demo_policy
    from casework.comparison.run import run
    from casework.warnings.rules import default_rules
    from resolvers.rules.regions import Region
    from tools.demo import generate
    from tools.demo.dates import TODAY

    url = f"sqlite:///{folder / 'console.db'}"
    engine = create_engine(url)
    migrate(engine)
    generate(folder / "demo", households=HOUSEHOLDS, seed=0)
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, folder / "demo" / name)
    run(engine, region="3505", by="screenshots", as_of=TODAY)
    run_scan(engine, default_rules(), as_of=TODAY, regions=[Region("3505")])
    ensure_demo_policy(engine)
    return url, engine


def take(out: Path) -> list[Path]:
    from aidgraph.app import create_app
    from aidgraph.settings import Settings
    from tools.browser import chromium
    from tools.console_people import add_person, sign_in_in_browser
    from tools.serving import serving

    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="aidgraph-screens-") as temporary:
        url, engine = prepare_store(Path(temporary))
        caseworker = add_person(engine, "li.nanan", ["civil-affairs"], ["350583"])
        admin = add_person(engine, "wang.admin", ["user-admin", "policy-author", "auditor"], ["3505"])
        with serving(create_app(Settings(database_url=url))) as base_url, chromium() as browser:
            context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
            page = context.new_page()

            def shot(name: str) -> None:
                path = out / f"{name}.png"
                page.screenshot(path=str(path), full_page=False)
                saved.append(path)

            first: Callable[[str], None] = lambda name: shot(name) if name == "sign-in" else None  # noqa: E731
            sign_in_in_browser(page, base_url, caseworker, shot=first)
            page.goto(f"{base_url}/admin/casework?purpose=comparison")
            shot("comparison-runs")
            page.get_by_role("link", name="第 1 批").click()
            page.get_by_label("用途").select_option("comparison")
            page.get_by_role("button", name="显示").click()
            page.locator("article.item details").first.locator("summary").click()
            shot("ledger")
            page.goto(f"{base_url}/admin/alerts?purpose=case-management")
            shot("alerts")
            context.close()
            context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
            page = context.new_page()
            sign_in_in_browser(
                page, base_url, admin, shot=lambda name: shot(name) if name.startswith("enrol") else None
            )
            for name, path in _ADMIN_PAGES:
                page.goto(f"{base_url}{path}")
                shot(name)
        engine.dispose()
    return saved


_ADMIN_PAGES: list[tuple[str, str]] = [
    ("policies", "/admin/policies"),
    ("policy-matrix", "/admin/policies/1?role=civil-affairs&role=housing&role=medical"),
    ("policy-diff", "/admin/policies/1/diff"),
    ("policy-why", "/admin/policies/1/why"),
    ("policy-impact", "/admin/policies/1/impact"),
    ("audit-search", "/admin/audit"),
    ("audit-access-log", "/admin/audit/access-log"),
    ("clients", "/admin/clients"),
]
"""(screenshot, address) of the administrators' pages, visited after signing in with a second factor."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    arguments = parser.parse_args()
    for path in take(arguments.out):
        print(path)


if __name__ == "__main__":
    main()
