"""`catalog serve`: the read-only HTTP service and its page over the catalog at `--root`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from connectors.cli.catalogs import existing_catalog
from connectors.cli.sync import positive
from connectors.serve.running import LOOPBACK, serve
from connectors.serve.service import MAX_BODY, REQUEST_SECONDS, ServiceSettings

if TYPE_CHECKING:
    from collections.abc import Callable


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def add_serve(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """Declare the options of `catalog serve`; return its command."""
    parser.add_argument(
        "--host",
        default=LOOPBACK,
        help="address to listen on (default: %(default)s, this machine only)",
    )
    parser.add_argument("--port", type=int, default=8080, help="port (default: %(default)s)")
    parser.add_argument(
        "--max-body",
        type=positive,
        default=MAX_BODY,
        metavar="BYTES",
        help="largest request body accepted, a POST /pit-join's bars (default: %(default)s)",
    )
    parser.add_argument(
        "--request-seconds",
        type=_seconds,
        default=REQUEST_SECONDS,
        metavar="S",
        help="longest a request may take before it is answered 503 (default: %(default)s)",
    )
    return run_serve


def run_serve(args: argparse.Namespace) -> int:
    """Answer on --host:--port until interrupted; return 0."""
    catalog = existing_catalog(args.root)
    settings = ServiceSettings(max_body=args.max_body, request_seconds=args.request_seconds)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    say(
        f"catalog: serving {catalog.log.root} read-only; the page is http://{args.host}:{args.port}/"
    )
    serve(catalog, args.host, args.port, settings, say)
    return 0


SERVE_COMMANDS = (("serve", "answer queries over HTTP (read-only), with a page at /", add_serve),)
