"""eventstore.log.event_log."""
