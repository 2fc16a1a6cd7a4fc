"""The daemon's anchor: sign each commit's head with the configured key, and witness it.

The key and the witness are read and checked when the daemon starts, so a bad one stops it
before anything runs. A head that cannot be witnessed (the witness unreachable for a while)
is logged and skipped: the next commit's head is witnessed as usual, and the head stays
signed beside the log.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from connectors.daemon.logs import event
from eventstore.errors import AnchorError
from eventstore.log.anchor import HeadSigner, SigningKey, Witness

if TYPE_CHECKING:
    from connectors.daemon.config import Config
    from eventstore import EventLog


class DaemonAnchor:
    """The signing key and witness named by a daemon's configuration (either may be absent)."""

    def __init__(self, config: Config) -> None:
        """Read the key and check the witness named in `config`."""
        key = SigningKey.load(config.signing_key) if config.signing_key else None
        self.signer = HeadSigner(key) if key is not None else None
        self.witness = Witness(config.witness) if config.witness else None
        if self.witness is not None:
            self.witness.check(config.root)

    def attach(self, log: EventLog) -> None:
        """Make `log` sign the head of each commit it makes."""
        if self.signer is not None:
            log.on_commit = self.signer

    def witness_last(self, logger: logging.Logger, source: str) -> None:
        """Append the head the last commit signed to the witness; log a failure, not raise."""
        signed = self.signer.last if self.signer is not None else None
        if self.witness is None or signed is None:
            return
        try:
            self.witness.append(signed)
        except AnchorError as exc:
            event(logger, "witness failed", logging.WARNING, source=source, error=str(exc))
            return
        event(
            logger,
            "head witnessed",
            source=source,
            position=signed.position,
            version=signed.delta_version,
        )


__all__ = ["DaemonAnchor"]
