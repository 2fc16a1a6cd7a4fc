"""connectors.replay.driver."""
