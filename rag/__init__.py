"""Retrieval and answering over the congvan index."""

from ingest.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
