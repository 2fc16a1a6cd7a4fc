"""eventstore.encoding."""
