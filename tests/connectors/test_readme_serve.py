"""The README's `curl` lines for the service run as written, against the README's catalog.

The README's API block fills `data/lakehouse` in a fresh folder, its join block makes the
bars, and the service block writes them to `data/bars.arrow`; then every `curl` line of the
service section is sent to that catalog served on loopback (its `127.0.0.1:8080` replaced
by the test's port), and answers with 200, or with the status its comment names.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from served import call
from test_readme import README, blocks

from connectors.cli.main import build_parser
from connectors.serve import InThread

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

SECTION = re.compile(r"^## The service and the page\n(.*?)^## ", re.DOTALL | re.MULTILINE)
SHELL = re.compile(r"^```sh\n(.*?)^```", re.DOTALL | re.MULTILINE)
LISTENING = "http://127.0.0.1:8080"


def curl_lines() -> tuple[str, list[str]]:
    """Return the section's `catalog serve` line and its `curl` lines."""
    section = SECTION.search(README.read_text())
    assert section is not None
    lines = SHELL.findall(section.group(1))[0].splitlines()
    return lines[0], [line for line in lines if line.startswith("curl ")]


def send(line: str, base: str) -> tuple[int, int, Any]:
    """Send one `curl` line to `base`; return its status, the status expected, the answer."""
    command, _, comment = line.partition("#")
    words = shlex.split(command)[1:]
    headers: dict[str, str] = {}
    data: bytes | None = None
    output: str | None = None
    url = ""
    while words:
        word = words.pop(0)
        if word == "-H":
            name, _, value = words.pop(0).partition(": ")
            headers[name] = value
        elif word == "--data-binary":
            with open(words.pop(0).removeprefix("@"), "rb") as file:
                data = file.read()
        elif word == "-o":
            output = words.pop(0)
        elif word != "-s":
            url = word.replace(LISTENING, base)
    found = call(url, accept=headers.get("Accept"), data=data, media=headers.get("Content-Type"))
    if output is not None:
        with open(output, "wb") as file:
            file.write(found.body)
    expected = re.match(r"\s*(\d{3})", comment)
    return found.status, int(expected.group(1)) if expected else 200, found


def test_the_readme_curl_lines_answer_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    session: dict[str, Any] = {}
    chosen = [block for block in blocks() if "Catalog.open" in block or "bars = pa.table" in block]
    chosen += [block for block in blocks() if "InThread" in block]
    for code in chosen:
        exec(compile(code, "README.md", "exec"), session)
    serve_line, lines = curl_lines()
    assert build_parser().parse_args(shlex.split(serve_line.partition("#")[0])[1:]).port == 8080
    assert len(lines) == 9
    with InThread(session["cat"]) as served:
        for line in lines:
            status, expected, found = send(line, served.base_url)
            assert status == expected, (line, found.body)
    assert pa.ipc.open_stream((tmp_path / "joined.arrow").read_bytes()).read_all().num_rows == 3
    assert pa.ipc.open_stream((tmp_path / "universe.arrow").read_bytes()).read_all().num_rows == 1
