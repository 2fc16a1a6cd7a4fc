"""connectors.cli.main."""
