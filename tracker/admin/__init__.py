"""The admin, by subject: evidence (the data-entry tool), the documents kept with reports, and
flags (what the checks found)."""

from . import document_admin, evidence, flags

__all__ = ["document_admin", "evidence", "flags"]
