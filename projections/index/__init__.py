"""projections.index.live."""
