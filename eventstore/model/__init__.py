"""eventstore.model."""
