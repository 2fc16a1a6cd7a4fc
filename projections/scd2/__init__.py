"""projections.scd2.export."""
