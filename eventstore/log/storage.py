"""The Delta Lake table behind the log: with its compaction, the only code touching `deltalake`.

Writes are single commits with no automatic retry, so a writer that lost the race learns
it (`write` returns False) and plans again; every storage failure becomes a `StorageError`.
Which third-party errors those are is said once, in `FAILURES`, and mapped in one place,
`failing` (as httpx maps its transport's errors). `eventstore.log.compaction` compacts it.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING, Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset
import pyarrow.fs as pa_fs
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from eventstore.encoding.schema import SCHEMA
from eventstore.errors import StorageError
from eventstore.log.places import local_folder
from eventstore.log.reading import ColumnsRead, column_names, read_fragment

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

#: The storage libraries' errors (deltalake, Arrow, the operating system): inside `failing`
#: each becomes a `StorageError` naming the action, the library's words as its detail. The
#: two a caller expects (a table that does not exist yet, a commit another writer won)
#: are caught before, where they are expected.
FAILURES: Final = (DeltaError, OSError, pa.ArrowException)


@contextmanager
def failing(uri: str, action: str) -> Iterator[None]:
    """Raise a failure of the storage libraries inside the block as a `StorageError`."""
    try:
        yield
    except FAILURES as exc:
        raise StorageError(uri, action, str(exc)) from exc


def _rival_won(exc: Exception, *, creating: bool) -> bool:
    """Return whether a failed write means another writer committed (or created) first."""
    return isinstance(exc, CommitFailedError) or (creating and "already exists" in str(exc).lower())


def _local_files(path: str) -> pa_fs.FileSystem:
    """Return Arrow's local file system rooted at the table's folder."""
    return pa_fs.SubTreeFileSystem(os.path.abspath(path), pa_fs.LocalFileSystem())


def _evolving(target: DeltaTable | str | None) -> bool:
    """Return whether appending to `target` adds columns it lacks (schema evolution)."""
    if not isinstance(target, DeltaTable):
        return False
    has = set(target.schema().to_arrow().names)
    return any(name not in has for name in SCHEMA.names)


class DeltaStorage:
    """One Delta table, opened lazily and refreshed incrementally."""

    def __init__(self, uri: str, storage_options: Mapping[str, str] | None) -> None:
        """Use the table at `uri` (it may not exist yet)."""
        self.uri = uri
        self.options = dict(storage_options) if storage_options else None
        self._table: DeltaTable | None = None
        self._folder = local_folder(uri)
        self._commits = None if self._folder is None else f"{self._folder}/_delta_log/"
        self._local = None if self._folder is None else _local_files(self._folder)

    def _dataset(self, table: DeltaTable) -> pa.dataset.Dataset:
        """Return the table's files as an Arrow dataset.

        A local table is read through Arrow's own file system: deltalake's default wraps
        its storage in a Python file system, whose callbacks from Arrow's I/O threads can
        race the interpreter's shutdown and abort the process at exit.
        """
        if self._local is None:
            return table.to_pyarrow_dataset()
        return table.to_pyarrow_dataset(filesystem=self._local)

    def dataset(self, version: int | None = None) -> pa.dataset.Dataset:
        """Return the files the Delta log lists (at `version`) as one Arrow dataset.

        Its schema is the log's whole schema: a column added after a file was written
        reads as null there. An empty dataset of that schema when there is no table yet.
        """
        table = self.table(version)
        if table is None:
            return pa.dataset.dataset(SCHEMA.empty_table())
        with failing(self.uri, "listing the log's files"):
            found = self._dataset(table)
            if found.schema.names == SCHEMA.names:
                return found
            # The log's column order; a column a file lacks reads as null there.
            have = found.schema
            fields = [have.field(f.name) if f.name in have.names else f for f in SCHEMA]
            return found.replace_schema(pa.schema(fields))

    def table(self, version: int | None = None) -> DeltaTable | None:
        """Return the table (at `version`, or as last refreshed), None if it does not exist."""
        if version is not None:
            return self._open(version)
        if self._table is None:
            self._table = self._open(None)
        return self._table

    def _open(self, version: int | None) -> DeltaTable | None:
        with failing(self.uri, "opening the log"):
            try:
                return DeltaTable(self.uri, version=version, storage_options=self.options)
            except TableNotFoundError:
                return None

    def refresh(self) -> int:
        """Load the commits made since the last look; return the version (-1: no table)."""
        table = self.table()
        if table is None:
            return -1
        with failing(self.uri, "refreshing the log"):
            table.update_incremental()
        version: int = table.version()
        return version

    def has_commit(self, version: int) -> bool:
        """Return whether commit `version` may exist: one `stat` on a local folder."""
        if self._commits is None:
            return True
        try:
            os.stat(f"{self._commits}{version:020d}.json")
        except FileNotFoundError:
            return False
        return True

    def missing_commits(self) -> list[int]:
        """Return the versions whose commit file is absent from a local Delta log.

        Commits that a checkpoint covers may be cleaned up; the others must all be there.
        Always empty on an object store, which is not listed here.
        """
        if self._commits is None:
            return []
        try:
            names = os.listdir(self._commits)
        except OSError:
            return []
        numbered = [(name[20:], int(name[:20])) for name in names if name[:20].isdigit()]
        commits = {version for rest, version in numbered if rest == ".json"}
        checkpoints = [version for rest, version in numbered if rest.startswith(".checkpoint")]
        if not commits:
            return []
        start = max(checkpoints) + 1 if checkpoints else 0
        return [version for version in range(start, max(commits)) if version not in commits]

    def resized_files(self) -> list[str]:
        """Return, for a local table, each data file whose size is not the one its commit
        recorded: a file rewritten behind the log's back. Empty on an object store."""
        table = self.table()
        if self._folder is None or table is None:
            return []
        with failing(self.uri, "listing the log's files"):
            actions = pa.table(table.get_add_actions(flatten=False)).select(["path", "size_bytes"])
        found = []
        for path, size in zip(
            *(actions[c].to_pylist() for c in ("path", "size_bytes")), strict=True
        ):
            try:
                actual = os.stat(os.path.join(self._folder, path)).st_size
            except OSError:
                continue  # a missing file: reading says so
            if actual != size:
                found.append(f"data file {path} has {actual:,} bytes; its commit recorded {size:,}")
        return found

    def scan(
        self,
        columns: Sequence[str] | None,
        where: pc.Expression | None,
        version: int | None = None,
    ) -> pa.Table:
        """Return the rows matching `where`, in no particular order."""
        table = self.table(version)
        if table is None:
            return SCHEMA.empty_table().select(column_names(columns))
        with failing(self.uri, "reading the log"):
            read = ColumnsRead(self._dataset(table), columns)
            return read.upcast(read.dataset.to_table(columns=read.present, filter=where))

    def batches(
        self, columns: Sequence[str] | None, where: pc.Expression | None, batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        """Yield the rows matching `where` in record batches, in no particular order."""
        table = self.table()
        if table is None:
            return
        with failing(self.uri, "reading the log"):
            read = ColumnsRead(self._dataset(table), columns)
            wanted = {"columns": read.present, "filter": where, "batch_size": batch_size}
            for batch in read.dataset.to_batches(**wanted):
                if read.absent or read.observed:
                    yield from read.upcast(pa.Table.from_batches([batch])).to_batches()
                else:
                    yield batch

    def files(
        self, columns: Sequence[str] | None, where: pc.Expression | None
    ) -> Iterator[pa.Table]:
        """Yield the rows matching `where` one data file at a time, reading one file ahead.

        Arrow's scanner reads ahead as far as memory allows when the consumer is slow;
        a file at a time keeps a slow consumer of wide rows at a few files in memory.
        """
        table = self.table()
        if table is None:
            return
        with failing(self.uri, "reading the log"):
            read = ColumnsRead(self._dataset(table), columns)
            fragments = iter(read.dataset.get_fragments(filter=where))
            schema = read.dataset.schema
            with ThreadPoolExecutor(max_workers=1) as reader:
                fetch = partial(read_fragment, columns=read.present, where=where, schema=schema)
                pending = [reader.submit(fetch, f) for f in islice(fragments, 1)]
                while pending:
                    pending.extend(reader.submit(fetch, f) for f in islice(fragments, 1))
                    yield read.upcast(pending.pop(0).result())

    def transaction_done(self, app_id: str, sequence: int) -> bool:
        """Return whether app transaction `app_id` has committed `sequence` or later."""
        table = self.table()
        done = None if table is None else table.transaction_version(app_id)
        return done is not None and done >= sequence

    def write(
        self,
        rows: pa.Table | pa.RecordBatchReader,
        *,
        creating: bool,
        transaction: tuple[str, int] | None,
        metadata: dict[str, str],
    ) -> bool:
        """Commit `rows` as the next version; return False if another writer got there first.

        `creating` says the writer planned against no table: it must create the table,
        never append to one a rival created in the meantime.
        """
        properties = CommitProperties(
            max_commit_retries=0,
            app_transactions=[Transaction(*transaction)] if transaction else None,
            custom_metadata=metadata,
        )
        target = self.uri if creating else self.table()
        with failing(self.uri, "appending to the log"):
            try:
                write_deltalake(
                    target if target is not None else self.uri,
                    rows,
                    mode="error" if creating else "append",
                    schema_mode="merge" if _evolving(target) else None,
                    commit_properties=properties,
                    storage_options=self.options,
                )
            except FAILURES as exc:
                if _rival_won(exc, creating=creating):
                    return False
                raise
        if self._table is None:
            self._table = self._open(None)
        return True

    def present(self, paths: list[str]) -> list[str]:
        """Return the data files of `paths` that exist (all of them on an object store)."""
        if self._local is None:
            return paths
        infos = self._local.get_file_info(paths)
        return [i.path for i in infos if i.type != pa_fs.FileType.NotFound]
