"""`catalog keygen`, `catalog checkpoint`, the `--signing-key` option and the audit's anchor.

`keygen FILE` writes an Ed25519 key pair. Writers (`append`, `sync`, `import-scd2`,
`compact`) given `--signing-key FILE` or `$CATALOG_SIGNING_KEY` sign the head of each
commit they make and store it under `<root>/heads/`. `checkpoint --witness PATH` appends the
current signed head to a witness outside the root. `audit --public-key FILE.pub --witness
PATH` compares the log with both (`eventstore.audit.anchor_checks`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import msgspec

from connectors.catalog_audit import AuditAnchor
from connectors.cli.render import to_json
from eventstore import EventLog
from eventstore.audit.anchor_checks import log_head
from eventstore.errors import AnchorError
from eventstore.log.anchor import (
    HeadSigner,
    HeadStore,
    SigningKey,
    VerifyKey,
    Witness,
    generate_key,
)
from eventstore.log.head import Head, SignedHead, commits_seen_by

if TYPE_CHECKING:
    from collections.abc import Sequence


#: A subcommand: given the parsed arguments, print its answer and return the exit status.
Command = Callable[[argparse.Namespace], int]
SIGNING_VARIABLE: Final = "CATALOG_SIGNING_KEY"
#: The commands that commit to the log, and so sign when given a key.
WRITERS: Final = frozenset({"append", "sync", "import-scd2", "compact"})


def add_signing_option(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Declare the global `--signing-key FILE` (SUPPRESSed on subcommands, like `--root`)."""
    parser.add_argument(
        "--signing-key",
        default=None if defaults else argparse.SUPPRESS,
        metavar="FILE",
        help=f"sign each commit's head with this Ed25519 key (default: ${SIGNING_VARIABLE})",
    )


def signing_key(args: argparse.Namespace) -> SigningKey | None:
    """Return the key named by `--signing-key` or `$CATALOG_SIGNING_KEY`, if any."""
    path = getattr(args, "signing_key", None) or os.environ.get(SIGNING_VARIABLE)
    return SigningKey.load(path) if path else None


def signing(name: str, command: Command) -> Command:
    """Return `command`, made to sign its commits when it is a writer and a key is given.

    The key is read before the command runs, so a bad key changes nothing.
    """
    if name not in WRITERS:
        return command

    def signed(args: argparse.Namespace) -> int:
        key = signing_key(args)
        if key is None:
            return command(args)
        with commits_seen_by(HeadSigner(key)):
            return command(args)

    return signed


# -- keygen ------------------------------------------------------------------------------


def _add_keygen(parser: argparse.ArgumentParser) -> Command:
    parser.add_argument("file", metavar="FILE", help="the private key to write; FILE.pub too")
    return _keygen


def _keygen(args: argparse.Namespace) -> int:
    path = os.path.expanduser(args.file)
    key = generate_key(path)
    if args.json:
        print(to_json({"private_key": path, "public_key": f"{path}.pub", "key_id": key}))
    else:
        print(f"wrote {path} (private, mode 0600) and {path}.pub (public); key id {key}")
    return 0


# -- checkpoint --------------------------------------------------------------------------


def _add_checkpoint(parser: argparse.ArgumentParser) -> Command:
    parser.add_argument(
        "--witness",
        required=True,
        metavar="PATH",
        help="JSON-lines file (a local path or an object-store URI) outside the root",
    )
    return _checkpoint


def _checkpoint(args: argparse.Namespace) -> int:
    """Append the current signed head to the witness; sign it first if a key is given."""
    witness = Witness(args.witness)
    witness.check(args.root)
    key = signing_key(args)
    log = EventLog.open(args.root)
    head = log_head(log)
    if head is None:
        raise AnchorError(f"root {log.root}", "has no event yet: there is no head to witness")
    store = HeadStore(log.root, log.storage_options)
    signed, signed_now = _signed_head(store.get(head.delta_version), head, key)
    if signed_now:
        store.put(signed)
    line = witness.append(signed)
    if args.json:
        shown = msgspec.structs.asdict(line)
        print(to_json({"witness": witness.uri, "signed_now": signed_now, **shown}))
    else:
        now = " (signed now)" if signed_now else ""
        print(
            f"witnessed the head at position {head.position:,} (version {head.delta_version}, "
            f"hash {head.hash[:16]}...){now} in {witness.uri}"
        )
    return 0


def _signed_head(
    stored: SignedHead | str | None, head: Head, key: SigningKey | None
) -> tuple[SignedHead, bool]:
    """Return the head to witness, and whether it was signed just now."""
    what = f"the head of version {head.delta_version}"
    if isinstance(stored, str):
        raise AnchorError(what, f"{stored}; run catalog audit")
    if stored is None:
        if key is None:
            raise AnchorError(
                what, f"is not signed: give --signing-key FILE (or ${SIGNING_VARIABLE})"
            )
        return key.sign(head), True
    if not head.same_tip(stored):
        raise AnchorError(
            what, "does not match its signed head; nothing witnessed, run catalog audit"
        )
    problem = key.verify_key.problem(stored) if key is not None else None
    if problem:
        raise AnchorError(what, f"{problem}; nothing witnessed, run catalog audit")
    return stored, False


ANCHOR_COMMANDS: Final[Sequence[tuple[str, str, Callable[[argparse.ArgumentParser], Command]]]] = (
    ("keygen", "write an Ed25519 key pair to FILE and FILE.pub", _add_keygen),
    ("checkpoint", "append the current signed head to a witness", _add_checkpoint),
)


# -- audit -------------------------------------------------------------------------------


def audit_anchor_from(args: argparse.Namespace) -> AuditAnchor:
    """Read `--public-key` and `--witness`: a bad one stops the audit before it starts."""
    path = getattr(args, "public_key", None)
    given = getattr(args, "witness", None)
    key = VerifyKey.load(path) if path else None
    return AuditAnchor(key, Witness(given) if given else None)


def add_audit_options(parser: argparse.ArgumentParser) -> None:
    """Declare `--public-key` and `--witness` of `catalog audit`."""
    parser.add_argument(
        "--public-key", metavar="FILE", help="check the signed heads with this public key"
    )
    parser.add_argument(
        "--witness", metavar="PATH", help="check the log against the heads this witness saw"
    )


__all__ = [
    "ANCHOR_COMMANDS",
    "SIGNING_VARIABLE",
    "WRITERS",
    "add_audit_options",
    "add_signing_option",
    "audit_anchor_from",
    "signing",
    "signing_key",
]
