"""connectors.venues."""
