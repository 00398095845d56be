"""Errors a user sees during ingestion. Each message names the file and says what to do."""

from __future__ import annotations


class CongvanError(Exception):
    """Base class: the message is shown to the user as it is."""


class LoadError(CongvanError):
    """A file could not be turned into text. Nothing already indexed is touched."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class IndexLockedError(CongvanError):
    """The embedded index is open in another process (usually the running web app)."""


class IndexMismatchError(CongvanError):
    """The index on disk was built with other settings (embedding model, vector size)."""


class IndexDamagedError(CongvanError):
    """The index on disk cannot be read; ``congvan ingest --repair`` rebuilds it from the files."""
