"""Headless Chromium for the kit's pages and PDFs: Debian's ``chromium`` driven by Playwright.

The kit never downloads a browser (no ``playwright install``): it launches the system's Chromium at
:data:`CHROMIUM` with :data:`FLAGS`. ``apt-get install chromium`` provides it.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

#: Debian's Chromium; ``$CHROMIUM`` overrides it.
CHROMIUM = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
#: Headless, no sandbox (the kit runs as root in CI and in containers), nothing fetched in the background.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")


class BrowserMissing(RuntimeError):
    """No Chromium at :data:`CHROMIUM`, or Playwright is not installed."""


def available() -> str:
    """"" when Chromium and Playwright are there, else why not (for a skip or an error message)."""
    if not (CHROMIUM.is_file() or shutil.which(str(CHROMIUM))):
        return f"no Chromium at {CHROMIUM}: apt-get install chromium (or set $CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: pip install -r requirements.txt"
    return ""


@contextlib.contextmanager
def chromium():
    """A Playwright ``Browser`` of the system's Chromium, closed on exit.

    Raises BrowserMissing when Chromium or Playwright is missing.
    """
    missing = available()
    if missing:
        raise BrowserMissing(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(FLAGS))
        try:
            yield browser
        finally:
            browser.close()
