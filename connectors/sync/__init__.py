"""connectors.sync.syncer."""
