"""Every `catalog ...` line of the README's shell blocks is a command the parser takes.

The lines are patterns as much as commands: `[--as-of T]` is an optional part (kept),
`a|b|c` alternatives (each tried in turn: one must parse), `...` more arguments (dropped),
`> FILE` a redirection (dropped), and a placeholder stands for a value of its option's type.
So an option renamed or removed, a subcommand that does not exist, or a choice the parser
refuses fails here. The `curl` lines of the service are run by `test_readme_serve`.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

import pytest
from test_readme import README

from connectors.cli.main import build_parser
from connectors.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterator

SHELL = re.compile(r"^```sh\n(.*?)^```", re.DOTALL | re.MULTILINE)
#: Placeholders of options whose values are numbers (or choices), as one such value.
VALUES = {"H": "24", "N": "2", "F": "0.5", "S": "30", "MB": "64", "BYTES": "1000", "SOURCE": "okx"}


def catalog_lines() -> list[str]:
    """Return the README's shell lines that run `catalog`, comments cut off."""
    lines = []
    for block in SHELL.findall(README.read_text()):
        for line in block.splitlines():
            command = line.split(" #", 1)[0].strip()
            if command.startswith("catalog "):
                lines.append(command)
    return lines


def variants(line: str) -> Iterator[list[str]]:
    """Yield the arguments `line` stands for: the n-th of each set of alternatives."""
    words = shlex.split(line.replace("[", " ").replace("]", " "))[1:]
    if ">" in words:
        words = words[: words.index(">")]
    words = [VALUES.get(word, word) for word in words if word != "..."]
    widest = max([1, *(len(word.split("|")) for word in words)])
    for number in range(widest):
        yield [_nth(word.split("|"), number) for word in words]


def _nth(choices: list[str], number: int) -> str:
    return choices[min(number, len(choices) - 1)]


def parses(words: list[str]) -> bool:
    """Return whether `catalog` takes `words` (with `status` when they name no command)."""
    parser = build_parser()
    try:
        args = parser.parse_args(words)
    except UsageError as exc:
        if "required: COMMAND" in str(exc):  # `catalog --root PATH ...`
            return parses([*words, "status"])
        return False
    except SystemExit as exc:  # --version, --help
        return exc.code in (0, None)
    return args.command is not None


def test_the_readme_has_catalog_lines() -> None:
    lines = catalog_lines()
    assert len(lines) > 30
    assert any(line.startswith("catalog completion ") for line in lines)


@pytest.mark.parametrize("line", catalog_lines())
def test_each_catalog_line_parses(line: str, capsys: pytest.CaptureFixture[str]) -> None:
    tried = list(variants(line))
    assert any(parses(words) for words in tried), f"none of {tried} parses"
    capsys.readouterr()  # --version prints
