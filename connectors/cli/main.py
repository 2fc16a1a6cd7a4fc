"""The `catalog` command: point-in-time queries, appends and maintenance from a shell.

Every command prints a readable answer, or JSON with `--json`. Exit statuses:

    0    done
    1    a `get` found nothing, a source failed, an audit found violations
    2    bad input, one line on stderr (`catalog: error: ...`): the packages' own errors,
         a root that holds no catalog, or one the system refuses (a file, read-only, full)
    70   an internal error: one line; CATALOG_TRACEBACK=1 prints the traceback too
    130  interrupted (Ctrl-C), 143 terminated (SIGTERM): one line says what was committed;
         the writer lease is released
    141  stdout was closed early (`catalog ... | head`): nothing more is printed
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Final, NoReturn

from connectors.cli import anchor as cli_anchor
from connectors.cli import daemon as cli_daemon
from connectors.cli import sync as cli_sync
from connectors.cli.append import FORMAT_HELP, add_append
from connectors.cli.audit import add_audit
from connectors.cli.compact import add_compact
from connectors.cli.completion import COMPLETION_COMMANDS
from connectors.cli.interrupt import Interrupted, committed_since, log_version, stop_on_sigterm
from connectors.cli.names import NAME_COMMANDS
from connectors.cli.queries import EXAMPLE_INSTANT, QUERY_COMMANDS
from connectors.cli.render import escaped_streams
from connectors.cli.revisions import REVISIONS_COMMANDS
from connectors.cli.scd2 import IMPORT_HELP, SCD2_COMMANDS
from connectors.cli.serve import SERVE_COMMANDS
from connectors.cli.spelling import spell_instants
from connectors.errors import ConnectorError, UsageError
from connectors.release import package_version
from eventstore import (
    EventStoreError,
    InvalidInstantError,
    NaiveTimestampError,
)
from projections import CatalogError

DEFAULT_ROOT: Final = "data/lakehouse"
ROOT_VARIABLE: Final = "CATALOG_ROOT"
EXIT_BAD_INPUT: Final = 2
EXIT_INTERNAL: Final = 70  # EX_SOFTWARE of sysexits.h
EXIT_BROKEN_PIPE: Final = 128 + signal.SIGPIPE
TRACEBACK_VARIABLE: Final = "CATALOG_TRACEBACK"
#: Commands that append to the log: an interruption says what they committed.
WRITING_COMMANDS: Final = frozenset({"append", "sync", "import-scd2"})

#: A subcommand: given the parsed arguments, print its answer and return the exit status.
Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """An argument parser that raises instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        """Raise `UsageError` so that `main` prints one line and returns 2."""
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    # Subcommands repeat the options with SUPPRESS, so that `--json` works after the
    # subcommand and their absence there does not reset a value given before it.
    json_default: object = False if defaults else argparse.SUPPRESS
    root_default: object = None if defaults else argparse.SUPPRESS
    parser.add_argument(
        "--json", action="store_true", default=json_default, help="print JSON for machines"
    )
    parser.add_argument(
        "--root",
        default=root_default,
        metavar="PATH",
        help=f"lakehouse root (default: ${ROOT_VARIABLE}, else {DEFAULT_ROOT})",
    )
    cli_anchor.add_signing_option(parser, defaults=defaults)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the `catalog` command and its subcommands."""
    parser = _Parser(prog="catalog", description="Query and maintain the instrument catalog.")
    _global_options(parser, defaults=True)
    parser.add_argument("--version", action="version", version=f"catalog {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, summary, add in _COMMANDS:
        sub = commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog={"append": FORMAT_HELP, "import-scd2": IMPORT_HELP}.get(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _global_options(sub, defaults=False)
        sub.set_defaults(handler=cli_anchor.signing(name, add(sub)))
    return parser


def _add_sync(parser: argparse.ArgumentParser) -> Command:
    cli_sync.add_arguments(parser)
    return cli_sync.run


def _add_daemon(parser: argparse.ArgumentParser) -> Command:
    cli_daemon.add_daemon_arguments(parser)
    return cli_daemon.run_daemon


def _add_status(parser: argparse.ArgumentParser) -> Command:
    cli_daemon.add_status_arguments(parser)
    return cli_daemon.run_status


_COMMANDS: Final[Sequence[tuple[str, str, Callable[[argparse.ArgumentParser], Command]]]] = (
    *QUERY_COMMANDS,
    *NAME_COMMANDS,
    *REVISIONS_COMMANDS,
    ("append", "append events from a JSON-lines file, all or nothing", add_append),
    ("sync", "bring sources into the catalog, live or from recorded snapshots", _add_sync),
    ("daemon", "keep the catalog current: each source on its schedule", _add_daemon),
    ("status", "show what the daemon did and will do, per source", _add_status),
    ("compact", "merge small files and checkpoint the log", add_compact),
    ("audit", "check the log's integrity and the PIT invariants", add_audit),
    *SCD2_COMMANDS,
    *cli_anchor.ANCHOR_COMMANDS,
    *SERVE_COMMANDS,
    *COMPLETION_COMMANDS,
)


# -- entry point -------------------------------------------------------------------------


def _root(given: str | None) -> str:
    root = given or os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT
    return root if "://" in root else os.path.expanduser(root)


def _instant_message(exc: InvalidInstantError, args: argparse.Namespace) -> str:
    """Name the option and the text given, rather than the value the library parsed."""
    given = getattr(args, exc.what, None)
    if not isinstance(given, str):
        return str(exc)
    option = "--" + exc.what.replace("_", "-")
    if isinstance(exc, NaiveTimestampError):
        return f"{option}: {given!r} has no time zone; add an offset or Z ({EXAMPLE_INSTANT})"
    return f"{option}: {str(exc).removeprefix(f'{exc.what}: ')}"


def _fail(message: str) -> int:
    print(f"catalog: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _system_message(exc: OSError) -> str:
    """One line for an error of the system: what it refused, and where."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        reason += "; free some space and run again"
    where = exc.filename if exc.filename is not None else ""
    return f"{where}: {reason}" if where else reason


def _internal(exc: BaseException) -> int:
    if os.environ.get(TRACEBACK_VARIABLE):
        traceback.print_exception(exc, file=sys.stderr)
    print(
        f"catalog: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
        f"(a bug: set {TRACEBACK_VARIABLE}=1 to see the traceback)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def _quiet_stdout() -> int:
    """Stdout was closed by its reader: say nothing more, and let exit not flush into it."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def _interrupted(exc: Interrupted, args: argparse.Namespace, before: int | None) -> int:
    what = "" if before is None else committed_since(args.root, before)
    print(f"catalog: {exc.describe()}{what}", file=sys.stderr)
    return exc.status


def _run(args: argparse.Namespace) -> int:
    before = log_version(args.root) if args.command in WRITING_COMMANDS else None
    try:
        return int(args.handler(args))
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM as `Interrupted`
        stopped = exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)
        return _interrupted(stopped, args, before)


def main(argv: list[str] | None = None) -> int:
    """Run the `catalog` command with `argv` (default: the process arguments); return the status.

    Whatever it prints, data included, has its control characters escaped.
    """
    with escaped_streams():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        return _fail(str(exc))
    except SystemExit as exc:  # --help prints and exits through argparse
        return exc.code if isinstance(exc.code, int) else 0
    args.root = _root(args.root)
    spell_instants(args)
    try:
        with stop_on_sigterm():
            return _run(args)
    except InvalidInstantError as exc:
        return _fail(_instant_message(exc, args))
    except (EventStoreError, CatalogError, ConnectorError) as exc:  # the packages' own
        return _fail(str(exc))
    except BrokenPipeError:
        return _quiet_stdout()
    except OSError as exc:  # the system refused: a root that is a file, read-only, full
        return _fail(_system_message(exc))
    except Exception as exc:  # anything else is a bug, and said to be one
        return _internal(exc)


if __name__ == "__main__":
    raise SystemExit(main())
