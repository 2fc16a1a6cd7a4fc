"""Check every Delta `remove` action: a commit may drop data files only to re-add their events.

A compaction removes small files and adds one that holds exactly their events; any other
remove (a `DELETE`, a hand-written commit) takes events out of the log while every chain
link of what remains still verifies. Each commit's actions are read from the Delta log
(`_delta_log/<version>.json`); a file's row count and position range come from the
statistics of the `add` action that brought it, found in any commit or checkpoint still
present. A remove whose file's `add` has been cleaned up with its commit is not checked,
and the check says how many there were.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from eventstore.audit.findings import CheckResult, Findings
from eventstore.errors import StorageError
from eventstore.log.places import Place

NAME: Final = "removes-readded"
DESCRIPTION: Final = "every commit that removes data files re-adds exactly their events"
_LOG: Final = "_delta_log"


@dataclass(frozen=True)
class FileRows:
    """What an `add` action's statistics say of its file: rows and position range."""

    rows: int
    first: int
    last: int


@dataclass
class _Commit:
    version: int
    added: list[tuple[str, FileRows | None]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    hidden: int = 0  # rows hidden by deletion vectors


def _file_rows(stats: object) -> FileRows | None:
    if not isinstance(stats, str):
        return None
    try:
        parsed = msgspec.json.decode(stats)
        rows = int(parsed["numRecords"])
        return FileRows(
            rows, int(parsed["minValues"]["position"]), int(parsed["maxValues"]["position"])
        )
    except (msgspec.DecodeError, KeyError, TypeError, ValueError):
        return None


def _commit(version: int, content: bytes) -> _Commit:
    commit = _Commit(version)
    for line in content.splitlines():
        if not line.strip():
            continue
        action: dict[str, Any] = msgspec.json.decode(line)
        if add := action.get("add"):
            commit.added.append((add["path"], _file_rows(add.get("stats"))))
            vector = add.get("deletionVector") or {}
            commit.hidden += int(vector.get("cardinality") or 0)
        elif remove := action.get("remove"):
            commit.removed.append(remove["path"])
    return commit


def _checkpointed(content: bytes) -> dict[str, FileRows | None]:
    adds = pq.read_table(pa.BufferReader(content), columns=["add"])["add"].to_pylist()
    return {add["path"]: _file_rows(add.get("stats")) for add in adds if add}


class _Removals:
    """The Delta log's commits and checkpoints, and what they say each file holds."""

    def __init__(self, place: Place) -> None:
        names = place.names(_LOG)
        commits = [n for n in names if len(n) == 25 and n[:20].isdigit() and n.endswith(".json")]
        checkpoints = [n for n in names if n[:20].isdigit() and ".checkpoint" in n]
        contents = place.read_many([f"{_LOG}/{n}" for n in commits + checkpoints])
        self.commits = [
            _commit(int(name[:20]), content)
            for name, content in zip(commits, contents[: len(commits)], strict=True)
            if content is not None
        ]
        self.files: dict[str, FileRows | None] = {}
        for content in contents[len(commits) :]:
            if content is not None:
                self.files.update(_checkpointed(content))
        for commit in self.commits:
            self.files.update(commit.added)

    def check(self, findings: Findings) -> int:
        """Record each commit that drops events; return how many removes could not be checked."""
        unknown = 0
        for commit in self.commits:
            if commit.hidden:
                findings.add(
                    NAME,
                    None,
                    None,
                    f"commit {commit.version} hides {commit.hidden} events "
                    "behind a deletion vector",
                )
            if not commit.removed:
                continue
            removed = [self.files.get(path) for path in commit.removed]
            added = [rows for _, rows in commit.added]
            if None in removed or None in added:
                unknown += len(commit.removed)
                continue
            gone = _span([r for r in removed if r is not None])
            back = _span([r for r in added if r is not None])
            if gone != back:
                first = gone[1] if gone else None
                findings.add(NAME, first, None, _dropped(commit.version, gone, back))
        return unknown


def _span(files: list[FileRows]) -> tuple[int, int, int] | None:
    """Return (rows, first position, last position) of files taken together."""
    if not files:
        return None
    return sum(f.rows for f in files), min(f.first for f in files), max(f.last for f in files)


def _dropped(
    version: int, gone: tuple[int, int, int] | None, back: tuple[int, int, int] | None
) -> str:
    def shown(span: tuple[int, int, int] | None) -> str:
        return "no event" if span is None else f"{span[0]:,} events (positions {span[1]}-{span[2]})"

    return f"commit {version} removes {shown(gone)} and re-adds {shown(back)}"


def check_removes(uri: str, storage_options: dict[str, str] | None = None) -> CheckResult:
    """Check the remove actions of the Delta table at `uri` (the log's `<root>/events`)."""
    findings = Findings({NAME: DESCRIPTION})
    try:
        unknown = _Removals(Place(uri, storage_options)).check(findings)
    except (StorageError, msgspec.DecodeError, pa.ArrowException, KeyError, TypeError) as exc:
        return CheckResult(NAME, DESCRIPTION, skipped=f"not checked: the Delta log: {exc}")
    (result,) = findings.results()
    if unknown:
        note = (
            f" ({unknown:,} removes not checked: a file's add was cleaned up, or has no statistics)"
        )
        return CheckResult(NAME, DESCRIPTION + note, result.violations, result.count)
    return result


__all__ = ["DESCRIPTION", "NAME", "FileRows", "check_removes"]
