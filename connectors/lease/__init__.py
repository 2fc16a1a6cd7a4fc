"""connectors.lease.writer."""
