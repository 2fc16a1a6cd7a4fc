"""Progress of long commands on stderr: `rich.progress` bars on a terminal, plain lines elsewhere.

Stdout stays the command's answer (text, `--json`, CSV or Parquet); progress never goes there.

- `Progress`: a count of items (`import-scd2`: events appended, batch by batch).
- `Steps`: the named stages of a command (`export`, `audit`), one after the other.
- `SyncProgress`: a sync's sources, each with its last step (fetching, which market it is
  planning, appending), under the snapshot a replay is on.

On a terminal, rich draws live bars on the real stderr (its cursor movements must reach
the terminal, so it writes under `EscapedOutput`); every text shown is escaped first with
`render.printable` and reaches rich as plain text, never as markup (`[bold]` in a source's
error message prints as it is). Elsewhere (a pipe, a file, CI, a test) each step is one
plain line, escaped as well.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Final

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

from connectors.cli.render import printable

if TYPE_CHECKING:
    import argparse
    from types import TracebackType
    from typing import Self, TextIO

#: Messages after which a source's sync is over (what `Syncer` says last).
_FINAL: Final = ("appended ", "failed: ")


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """Declare `--quiet`: no progress on stderr."""
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _stderr() -> TextIO:
    """Return the process's stderr, under the escaping stream `catalog` prints through."""
    err = sys.stderr
    return getattr(err, "stream", err)


class _Display:
    """Where progress goes: a live rich display on a terminal, else plain lines."""

    def __init__(self, out: TextIO | None, enabled: bool, *columns: ProgressColumn) -> None:
        self.out = out if out is not None else _stderr()
        self.enabled = enabled
        self.live: RichProgress | None = None
        if enabled and self.out.isatty():
            console = Console(file=self.out, markup=False, emoji=False, highlight=False)
            self.live = RichProgress(*columns, console=console)

    def __enter__(self) -> Self:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.live is not None:
            self.live.stop()

    def line(self, text: str) -> None:
        """Print one plain line (not on a terminal, or when there is no live display)."""
        if self.enabled and self.live is None:
            print(printable(text), file=self.out, flush=True)


def _text() -> TextColumn:
    return TextColumn("{task.description}", markup=False)


class _Count(MofNCompleteColumn):
    """`done/total`, except for a task made with `counted=False` (a source's steps)."""

    def render(self, task: Task) -> Text:
        """Return the count, or nothing."""
        return super().render(task) if task.fields.get("counted", True) else Text("")


class Progress(_Display):
    """Counts `done` of `total` items of `what`, shown on `out` (stderr by default).

    Use it as a context manager: the bar is drawn while the block runs.
    """

    def __init__(
        self, total: int, what: str, out: TextIO | None = None, *, enabled: bool = True
    ) -> None:
        """Show nothing yet; `advance` shows each step."""
        columns = (_text(), BarColumn(), TaskProgressColumn(), MofNCompleteColumn())
        super().__init__(out, enabled, *columns, TimeElapsedColumn(), TimeRemainingColumn())
        self.total = total
        self.what = what
        self.done = 0
        self.started = time.perf_counter()
        self.task = None if self.live is None else self.live.add_task(what, total=total)

    def advance(self, count: int) -> None:
        """Count `count` more items done and show where the work is."""
        self.done += count
        if self.live is not None and self.task is not None:
            self.live.update(self.task, completed=self.done)
            return
        seconds = max(time.perf_counter() - self.started, 1e-9)
        self.line(
            f"{self.done:,}/{self.total:,} {self.what} ({self.done / seconds:,.0f} {self.what}/s)"
        )


class Steps(_Display):
    """The `total` named stages of `what` (`export`, `audit`), shown one after the other."""

    def __init__(
        self, what: str, total: int, out: TextIO | None = None, *, enabled: bool = True
    ) -> None:
        """Show nothing yet; `step` starts each stage."""
        columns = (SpinnerColumn(), _text(), BarColumn(), MofNCompleteColumn())
        super().__init__(out, enabled, *columns, TimeElapsedColumn())
        self.what = what
        self.total = total
        self.number = 0
        self.task = None if self.live is None else self.live.add_task(what, total=total)

    def step(self, name: str) -> None:
        """Count the stage before as done and start `name`."""
        self.number += 1
        if self.live is not None and self.task is not None:
            described = printable(f"{self.what}: {name}")
            self.live.update(self.task, completed=self.number - 1, description=described)
            return
        self.line(f"{self.what}: {name} ({self.number}/{self.total})")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.live is not None and self.task is not None and kind is None:
            self.live.update(self.task, completed=self.total, description=f"{self.what}: done")
        super().__exit__(kind, error, trace)


class SyncProgress(_Display):
    """A sync's progress: `snapshot(name, number, total)` as a replay moves on, and
    `(source, message)` for each step of a source (`Syncer`'s `progress`)."""

    def __init__(self, out: TextIO | None = None, *, enabled: bool = True) -> None:
        """Show nothing yet."""
        columns = (SpinnerColumn(), _text(), BarColumn(), _Count())
        super().__init__(out, enabled, *columns, TimeElapsedColumn())
        self.snapshots: TaskID | None = None
        self.snapshot_count = 0
        self.sources: dict[str, TaskID] = {}
        self.said: set[tuple[str, str]] = set()

    def snapshot(self, name: str, number: int, total: int) -> None:
        """Say that the replay starts its snapshot `name`, the `number`th of `total`."""
        self.said.clear()
        if self.live is None:
            self.line(f"snapshot {name} ({number}/{total})")
            return
        described = printable(f"snapshot {name}")
        self.snapshot_count = total
        if self.snapshots is None:
            self.snapshots = self.live.add_task(described, total=total)
        self.live.update(self.snapshots, completed=number - 1, description=described)
        for task in self.sources.values():  # the snapshot before's sources
            self.live.remove_task(task)
        self.sources.clear()

    def done(self) -> None:
        """Count the last snapshot as done (a replay that went through)."""
        if self.live is not None and self.snapshots is not None:
            self.live.update(self.snapshots, completed=self.snapshot_count)

    def __call__(self, source: str, message: str) -> None:
        """Show `message`, the step `source` is on; a step said again within a snapshot is
        not shown again (a replay plans each snapshot's sources before it appends any, and
        again as it appends)."""
        if (source, message) in self.said:
            return
        self.said.add((source, message))
        if self.live is None:
            self.line(f"  {source}: {message}")
            return
        described = printable(f"{source}: {message}")
        task = self.sources.get(source)
        if task is None:
            task = self.live.add_task(described, total=None, counted=False)
            self.sources[source] = task
        finished = message.startswith(_FINAL)
        self.live.update(task, description=described)
        if finished:
            self.live.update(task, total=1, completed=1)
