"""The bounds of every paged listing: a page count, a time limit, and progress per page.

A venue that repeats a page (a duplicated row, a cursor that goes round) or never ends must
not be asked again and again: each page must add at least one row not seen before, the pages
may not outnumber a limit the caller derives (TradingView: from the reported total; Bybit,
which reports none: a generous cap), and the whole listing must end within
`HttpSettings.paging_seconds`. Breaking any bound is an `IncompleteSnapshotError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.venues.http import SourceHttp


class PageBudget:
    """What one paged listing of `url` may still spend."""

    def __init__(self, http: SourceHttp, url: str, max_pages: int) -> None:
        """Start the clock; allow `max_pages` pages in all."""
        self.http = http
        self.url = url
        self.max_pages = max_pages
        self.pages = 0
        self.started = http.clock()

    def next_page(self, added: int) -> None:
        """Account for a page that added `added` new rows, before asking for the next one."""
        self.pages += 1
        if added == 0:
            raise self.http.incomplete(
                self.url, f"page {self.pages} added no row not already seen; stopped paging"
            )
        if self.pages >= self.max_pages:
            raise self.http.incomplete(
                self.url, f"still not complete after {self.pages} pages, the most allowed"
            )
        spent = self.http.clock() - self.started
        limit = self.http.settings.paging_seconds
        if spent > limit:
            raise self.http.incomplete(
                self.url,
                f"still not complete after {self.pages} pages and {spent:.0f} s "
                f"(limit {limit:g} s)",
            )
