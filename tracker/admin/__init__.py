"""The admin, by subject: evidence (the data-entry tool) and flags (what the checks found)."""

from . import evidence, flags

__all__ = ["evidence", "flags"]
