"""Progress on stderr: rich's live bars on a terminal, one plain line per step elsewhere.

Whatever a source said (an error message in a step) is escaped and never read as rich
markup, on a terminal too.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from connectors.cli.progress import Progress, Steps, SyncProgress

if TYPE_CHECKING:
    import pytest

#: What a source might say: a terminal escape, and text that rich would read as markup.
HOSTILE = "failed: \x1b[31mred [bold]loud[/bold] [link=file:///etc]x[/link]"
ESCAPED = "failed: \\u001b[31mred [bold]loud[/bold] [link=file:///etc]x[/link]"
#: The control sequences rich draws with (colours, cursor moves, line clears).
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def shown(out: io.StringIO) -> str:
    """Return what a terminal shows of `out`'s text, rich's control sequences left out."""
    return _CONTROL.sub("", out.getvalue())


def test_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    with Progress(250, "events", out) as progress:
        progress.advance(100)
        progress.advance(150)
    lines = out.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == ["100/250 events", "250/250 events"]
    assert "\r" not in out.getvalue()
    assert "\x1b" not in out.getvalue()


def test_a_rich_bar_on_a_terminal() -> None:
    out = Terminal()
    with Progress(4, "rows", out) as progress:
        progress.advance(1)
        progress.advance(3)
    drawn = shown(out)
    assert "\x1b[" in out.getvalue()  # drawn live, with rich's cursor moves
    assert "4/4" in drawn
    assert "100%" in drawn
    assert drawn.endswith("\n")


def test_steps_say_each_stage_in_plain_lines() -> None:
    out = io.StringIO()
    with Steps("audit", 2, out) as steps:
        steps.step("reading the log")
        steps.step("checking the anchor")
    assert out.getvalue().splitlines() == [
        "audit: reading the log (1/2)",
        "audit: checking the anchor (2/2)",
    ]


def test_steps_on_a_terminal_end_done() -> None:
    out = Terminal()
    with Steps("export", 3, out) as steps:
        steps.step("reading the log")
    assert "export: done" in shown(out)
    assert "3/3" in shown(out)


def test_sync_progress_names_the_snapshot_and_the_step_in_plain_lines() -> None:
    out = io.StringIO()
    with SyncProgress(out) as progress:
        progress.snapshot("2022-07-23", 1, 2)
        progress("binance-spot", "planning spot: 3 instruments")
        progress("okx", HOSTILE)
    assert out.getvalue().splitlines() == [
        "snapshot 2022-07-23 (1/2)",
        "  binance-spot: planning spot: 3 instruments",
        f"  okx: {ESCAPED}",
    ]


def test_sync_progress_on_a_terminal_escapes_data_and_reads_no_markup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A snapshot folder's name and a source's error reach rich as text: `[bold]` prints as
    it is, and the escape character a source sent is shown as `\\u001b`."""
    monkeypatch.setenv("COLUMNS", "200")  # the whole message on one line
    out = Terminal()
    with SyncProgress(out) as progress:
        progress.snapshot("2022-[bold]07[/bold]", 1, 2)
        progress("okx", HOSTILE)
        progress.snapshot("2023-01-01", 2, 2)
        progress("binance-spot", "appended 3 events")
        progress.done()
    drawn = shown(out)
    assert "snapshot 2022-[bold]07[/bold]" in drawn
    assert f"okx: {ESCAPED}" in drawn
    assert "\x1b[31mred" not in out.getvalue()  # the source's own escape never reaches it
    assert "binance-spot: appended 3 events" in drawn
    assert "2/2" in drawn


def test_nothing_when_disabled() -> None:
    for out in (io.StringIO(), Terminal()):
        with SyncProgress(out, enabled=False) as progress:
            progress.snapshot("a", 1, 1)
            progress("okx", "fetching")
        with Steps("audit", 1, out, enabled=False) as steps:
            steps.step("reading the log")
        assert out.getvalue() == ""
