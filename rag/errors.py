"""Errors of the answering stage, each phrased for the person who sees it."""

from ingest.errors import CongvanError


class FilterError(CongvanError):
    """A filter the user gave cannot be applied."""


class LLMError(CongvanError):
    """The configured LLM server failed; the caller falls back to the extractive answer."""
