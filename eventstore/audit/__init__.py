"""eventstore.audit.log_audit."""
