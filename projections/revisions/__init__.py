"""What changed in what the catalog knows: the answers that differ between two knowledge
instants, field by field and effective interval by effective interval, with their causes."""

from projections.revisions.causes import CAUSES
from projections.revisions.news import REVISION_FIELDS
from projections.revisions.query import revisions
from projections.revisions.report import REVISION_SCHEMA
from projections.revisions.window import BASES, RevisionsError, Window

__all__ = [
    "BASES",
    "CAUSES",
    "REVISION_FIELDS",
    "REVISION_SCHEMA",
    "RevisionsError",
    "Window",
    "revisions",
]
