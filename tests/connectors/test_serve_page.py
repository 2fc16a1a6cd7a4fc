"""The page at `/`, in a real browser: Debian's headless Chromium driven by Playwright.

`make test` installs `chromium` (see the Makefile's `browser` target). The test serves the
log of `served.fill` on loopback, types into the search box, picks a suggestion, reads the
timeline the page drew, asks for it as known at an earlier instant, and checks each time
what the page shows against the API's own answer. Nothing reaches outside the machine:
the page's assets come from the service, and the browser runs with its networking extras
off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, sync_playwright
from served import BTC, PERP, PERP_RENAMED, call, fill

from connectors.serve import InThread
from projections import Catalog

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
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
EARLIER = "2024-02-01T00:00:00Z"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Page, str]]:
    """A browser page on the service's `/`, once its overview is drawn."""
    root = fill(tmp_path_factory.mktemp("page") / "lake")
    with InThread(Catalog.open(root)) as served, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        opened = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        opened.on("pageerror", lambda error: errors.append(str(error)))
        opened.goto(served.base_url + "/")
        opened.wait_for_selector("body[data-ready=yes]", timeout=10_000)
        yield opened, served.base_url
        browser.close()
        assert errors == []


def shown_versions(page: Page) -> list[dict[str, Any]]:
    """Return the rows of the versions table as the page shows them."""
    found: list[dict[str, Any]] = page.eval_on_selector_all(
        "#versions tbody tr",
        """rows => rows.map(row => ({
            valid_from: row.dataset.validFrom,
            known_since: row.dataset.knownSince,
            later: row.classList.contains("later"),
            tick_size: row.querySelector("[data-column=tick_size]").textContent,
        }))""",
    )
    return found


def test_search_timeline_and_known_at_show_what_the_api_says(
    page: tuple[Page, str], tmp_path: Path
) -> None:
    opened, base = page
    opened.fill("#search", "btcu")
    opened.wait_for_selector("#suggestions li")
    suggested = opened.eval_on_selector_all(
        "#suggestions li", "items => items.map(i => i.dataset.name)"
    )
    assert suggested == call(f"{base}/search?q=btcu&limit=10").json()["matches"]
    opened.click(f"#suggestions li[data-name='{BTC}']")
    opened.wait_for_selector(f"#timeline[data-ready='{BTC}|']")

    now = call(f"{base}/instruments/{BTC}/history").json()["rows"]
    assert shown_versions(opened) == [
        {
            "valid_from": row["valid_from"],
            "known_since": row["known_since"],
            "later": False,
            "tick_size": row["tick_size"],
        }
        for row in now
    ]
    bands = opened.eval_on_selector_all("#bands rect", "rects => rects.map(r => r.dataset.state)")
    assert bands == ["listed", "listed"]
    steps = opened.eval_on_selector_all(
        "svg[data-chart=tick_size] text[data-value]", "texts => texts.map(t => t.dataset.value)"
    )
    assert steps == ["0.01", "0.1"]

    opened.fill("#known-at", EARLIER)
    opened.click("#knowing button[type=submit]")
    opened.wait_for_selector(f"#timeline[data-ready='{BTC}|{EARLIER}']")
    then = call(f"{base}/instruments/{BTC}/history?known_at={EARLIER}").json()["rows"]
    later = [row for row in now if row["known_since"] > EARLIER]
    shown = shown_versions(opened)
    assert [row["valid_from"] for row in shown if not row["later"]] == [
        row["valid_from"] for row in then
    ]
    assert [row["valid_from"] for row in shown if row["later"]] == [
        row["valid_from"] for row in later
    ]
    assert [row["tick_size"] for row in shown] == ["0.01", "0.1"]
    assert "1 version as known at 2024-02-01 00:00:00Z, 2 as known now" in opened.inner_text(
        "#known-note"
    )
    lanes = opened.eval_on_selector_all("#bands rect", "rects => rects.map(r => r.dataset.lane)")
    assert lanes == ["then", "now", "now"]
    opened.screenshot(path=str(tmp_path / "timeline.png"), full_page=True)
    assert (tmp_path / "timeline.png").stat().st_size > 10_000


def test_a_rename_is_marked_on_the_timeline(page: tuple[Page, str]) -> None:
    """The perpetual renamed on 2024-05-01: a mark on its bands, named by the new symbol."""
    opened, base = page
    opened.fill("#known-at", "")
    opened.click("#known-now")
    opened.fill("#search", "OKX:BTCUSDT.P")
    opened.wait_for_selector(f"#suggestions li[data-name='{PERP}']")
    opened.press("#search", "Enter")
    opened.wait_for_selector(f"#timeline[data-ready='{PERP}|']")
    marks = opened.eval_on_selector_all(
        "#bands line[data-rename]", "ls => ls.map(l => l.dataset.rename)"
    )
    history = call(f"{base}/instruments/{PERP}/history").json()["rows"]
    assert [row["symbol"] for row in history] == [PERP, PERP_RENAMED]
    assert marks == [PERP_RENAMED]
    steps = opened.eval_on_selector_all(
        "svg[data-chart=funding_interval] text[data-value]", "ts => ts.map(t => t.dataset.value)"
    )
    assert steps == ["8"]


def test_the_overview_shows_the_counts_the_changes_and_the_audit(page: tuple[Page, str]) -> None:
    opened, base = page
    counts = call(f"{base}/universe/counts?points=60").json()
    exchanges = opened.eval_on_selector_all(
        "svg[data-chart=counts] path", "paths => paths.map(p => p.dataset.exchange)"
    )
    assert exchanges == list(counts["exchanges"])
    assert opened.locator("#changes tbody tr").count() > 0
    audit = call(f"{base}/audit").json()
    assert opened.inner_text("#audit p.ok") == "clean: every check passed"
    assert opened.locator("#audit table tr").count() == len(audit["checks"])


def test_a_bad_known_at_says_why_on_the_page(page: tuple[Page, str]) -> None:
    opened, _ = page
    opened.fill("#known-at", "2024-02-01")
    opened.click("#knowing button[type=submit]")
    opened.wait_for_selector("#timeline[data-ready$='|2024-02-01']")
    assert "has no time zone" in opened.inner_text("#timeline-error")
