"""Progress on stderr: a bar on a terminal, one plain line per step elsewhere."""

from __future__ import annotations

import io

from connectors.cli.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress(250, "events", out)
    progress.advance(100)
    progress.advance(150)
    lines = out.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == ["100/250 events", "250/250 events"]
    assert "\r" not in out.getvalue()


def test_a_bar_on_a_terminal_ends_its_line_when_done() -> None:
    out = Terminal()
    progress = Progress(4, "rows", out)
    progress.advance(1)
    assert out.getvalue().startswith("\r[")
    assert "25%" in out.getvalue()
    assert not out.getvalue().endswith("\n")
    progress.advance(3)
    assert out.getvalue().endswith("\n")
    assert "100%" in out.getvalue()
