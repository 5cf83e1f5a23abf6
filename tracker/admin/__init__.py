"""The admin, by subject: evidence (the data-entry tool), the documents kept with reports,
flags (what the checks found) and users (with their preferences)."""

from . import document_admin, evidence, flags, users

__all__ = ["document_admin", "evidence", "flags", "users"]
