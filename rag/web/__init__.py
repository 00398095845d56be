"""The web chat: a Gradio app over one shared index.

Logic modules know nothing of Gradio (``services``, ``render``, ``catalog``, ``uploads``,
``feedback``); the ``*_page`` modules build one tab each; ``layout`` puts the pages together
and ``server`` opens the index, ingests the corpus on first run and serves. Core modules
(``ingest``, ``rag``) never import this package.
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home: offices may be offline

from rag.web.services import Services

__all__ = ["Services", "build_app", "serve"]


def build_app(services: Services):
    """The Gradio Blocks of the whole app (imported lazily: Gradio is slow to import)."""
    from rag.web.layout import build_app as _build

    return _build(services)


def serve(settings=None) -> None:
    """Open the index, ingest the corpus on first run, and serve until stopped."""
    from rag.web.server import serve as _serve

    _serve(settings)
