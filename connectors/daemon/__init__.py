"""connectors.daemon.runner."""
