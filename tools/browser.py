"""A real browser for the console's tests and screenshots: Debian's Chromium, driven by Playwright.

Playwright's own browser download cannot reach the network here, so the browser is the system's
(`executable_path`). Where it is missing and we run as root (CI, a fresh machine) it is installed from
Debian with the CJK fonts: without them every Chinese label renders as boxes in a screenshot. Where it
cannot be had, `BrowserUnavailable` says what to install: the browser tests fail then, never skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from playwright.sync_api import Browser

PACKAGES: Final = ("chromium", "fonts-noto-cjk")
_CANDIDATES: Final = ("chromium", "chromium-browser")
_CJK_FONT_DIR: Final = Path("/usr/share/fonts/opentype/noto")
# Without these the browser reaches for Google's services at every start, and this machine's closed
# network refuses it many times over; the sandbox needs a user namespace that root in a container lacks.
LAUNCH_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


class BrowserUnavailable(RuntimeError):
    """No Chromium here and no way to install it; the message says what to install."""


def chromium_executable() -> str:
    """The system Chromium's path, installed from Debian first when it (or the CJK fonts) is missing."""
    found = _found()
    if found is None or not _has_cjk_fonts():
        _install()
        found = _found()
    if found is None:
        raise BrowserUnavailable("no Chromium found: install Debian's chromium and fonts-noto-cjk packages")
    return found


def _found() -> str | None:
    for name in _CANDIDATES:
        path = shutil.which(name)
        if path is not None:
            return path
    return None


def _has_cjk_fonts() -> bool:
    return any(_CJK_FONT_DIR.glob("NotoSansCJK*")) if _CJK_FONT_DIR.is_dir() else False


def _install() -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BrowserUnavailable(
            f"Chromium or the CJK fonts are missing and this is not root with apt-get: install {' '.join(PACKAGES)}"
        )
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT, "check": True}
    subprocess.run(["apt-get", "update", "-qq"], **quiet)  # type: ignore[call-overload]
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", *PACKAGES],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        **quiet,  # type: ignore[call-overload]
    )


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for the block, closed after it."""
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(LAUNCH_ARGS), headless=True)
        try:
            yield browser
        finally:
            browser.close()
