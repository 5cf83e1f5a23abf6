"""The admin, by subject: evidence (the data-entry tool), flags (what the checks found) and
users (with their preferences)."""

from . import evidence, flags, users

__all__ = ["evidence", "flags", "users"]
