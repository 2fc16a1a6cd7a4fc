"""Draw docs/timeline.png: the page over a catalog, BINANCE:BTCUSDC as known at 2022-12-01.

    .venv/bin/python docs/screenshot.py data/demo-catalog docs/timeline.png   (make screenshot)
"""

from __future__ import annotations

import sys

from playwright.sync_api import sync_playwright

from connectors.serve import InThread
from projections import Catalog

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ASKED = "#symbol=BINANCE:BTCUSDC&known_at=2022-12-01T00:00:00Z"


def main(root: str, path: str) -> None:
    with InThread(Catalog.open(root)) as served, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1180, "height": 800})
        page.goto(f"{served.base_url}/{ASKED}")
        page.wait_for_selector("body[data-ready=yes]", timeout=30_000)
        page.wait_for_selector("#timeline[data-ready]", timeout=30_000)
        page.locator("#timeline").screenshot(path=path)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
