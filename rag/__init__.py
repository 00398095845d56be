"""Answering over the congvan index: the analysed question (``query``), retrieval
(``retrieve``), the extractive answer (``answer``), follow-ups (``conversation``), the optional
LLM (``llm``) and the one entry point that ties them (``assistant``). The app layer above it
lives here too: the web app (``rag.web``) and the ``congvan`` command (``cli``, ``register_cli``).
"""

from ingest.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
