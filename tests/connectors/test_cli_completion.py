"""`catalog completion SHELL`: a completion script generated from the command's own parser."""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from connectors.cli.completion import SHELLS
from connectors.cli.main import build_parser, main

if TYPE_CHECKING:
    from pathlib import Path


def subcommands() -> list[str]:
    """Return the names of `catalog`'s subcommands, as its parser has them."""
    (commands,) = (
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    return list(commands.choices)


def script(capsys: pytest.CaptureFixture[str], shell: str) -> str:
    capsys.readouterr()
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("shell", SHELLS)
def test_the_script_names_every_subcommand(capsys: pytest.CaptureFixture[str], shell: str) -> None:
    """Every subcommand, and a subcommand's own options and choices, are in the script of
    each shell (shtab's tcsh script completes subcommands and choices, not options)."""
    text = script(capsys, shell)
    names = subcommands()
    assert {"get", "universe", "history", "sync", "status", "completion"} <= set(names)
    missing = [name for name in names if name not in text]
    assert missing == []
    assert "table json csv parquet" in text  # the choices of `--format`
    option = {"fish": "-l include-inactive", "tcsh": None}.get(shell, "--include-inactive")
    assert option is None or option in text  # an option of `universe` (tcsh: choices only)


def test_an_unknown_shell_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "cmd.exe"]) == 2
    assert "invalid choice: 'cmd.exe'" in capsys.readouterr().err


def _complete(script_path: Path, *words: str) -> list[str]:
    """Return what bash proposes for the last of `words` after `catalog`."""
    line = " ".join(("catalog", *words))
    quoted = " ".join(shlex.quote(word) for word in words)
    program = (
        f"source {shlex.quote(str(script_path))}\n"
        f"COMP_WORDS=(catalog {quoted})\n"
        f"COMP_CWORD={len(words)}\nCOMP_LINE={shlex.quote(line)}\nCOMP_POINT={len(line)}\n"
        "_shtab_catalog\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile"],
        input=program,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_subcommands_options_and_choices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bash script, sourced in a real bash, completes as a person types."""
    path = tmp_path / "catalog.bash"
    path.write_text(script(capsys, "bash"))
    assert subprocess.run(["bash", "-n", str(path)], check=False).returncode == 0
    assert _complete(path, "un") == ["universe"]
    assert _complete(path, "universe", "--inc") == ["--include-inactive"]
    assert _complete(path, "get", "--format", "") == ["table", "json", "csv", "parquet"]
    assert _complete(path, "completion", "") == list(SHELLS)
    assert set(subcommands()) <= set(_complete(path, ""))
