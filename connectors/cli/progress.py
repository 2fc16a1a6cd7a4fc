"""Progress of long commands on stderr: a bar on a terminal, plain lines elsewhere.

Stdout stays the command's answer (text or `--json`); progress never goes there.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from typing import TextIO

_WIDTH: Final = 30


class Progress:
    """Counts `done` of `total` items of `what`, shown on `out` (stderr by default)."""

    def __init__(self, total: int, what: str, out: TextIO | None = None) -> None:
        """Show nothing yet; `advance` shows each step."""
        self.total = total
        self.what = what
        self.out = out if out is not None else sys.stderr
        self.done = 0
        self.started = time.perf_counter()
        self.bar = self.out.isatty()

    def advance(self, count: int) -> None:
        """Count `count` more items done and show where the work is."""
        self.done += count
        seconds = max(time.perf_counter() - self.started, 1e-9)
        rate = f"{self.done / seconds:,.0f} {self.what}/s"
        counted = f"{self.done:,}/{self.total:,} {self.what}"
        if not self.bar:
            print(f"{counted} ({rate})", file=self.out, flush=True)
            return
        share = self.done / self.total if self.total else 1.0
        filled = round(share * _WIDTH)
        line = f"\r[{'#' * filled}{' ' * (_WIDTH - filled)}] {share:4.0%} {counted} ({rate})"
        end = "\n" if self.done >= self.total else ""
        print(line, end=end, file=self.out, flush=True)
