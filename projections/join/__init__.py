"""projections.join."""
