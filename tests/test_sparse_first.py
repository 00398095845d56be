"""Searchable at once: a sparse-first ingest, its dense backlog, and ``embed_backlog`` completing it.

A sparse-first file is found by keyword and hybrid search and answered with a citation before
anything is embedded; ``embed_backlog`` then makes its points equal to a plain ingest's, resumes
after an interruption without redoing finished files, and the backlog follows re-ingests and
prunes. Both the embedded engine and the server path (qdrant-client's local mode) are covered,
with the CLI (``ingest --sparse-first``, ``embed``) and the web app's upload.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from qdrant_client import QdrantClient

from ingest.backfill import BacklogSize, backlog_size, dense_backlog, embed_backlog
from ingest.index import Index
from ingest.pipeline import ingest_paths
from ingest.schema import ChunkPoint, DenseBacklogPoint, TermStatsPoint, point_id
from ingest.settings import Settings
from ingest.sparse import encode_query
from ingest.store import Condition, EdgeStore, ServerStore
from rag.assistant import Assistant
from rag.cli import cli
from tests.conftest import CountingEmbedder

from tests.test_web import GOOD_UPLOAD as TRAINING  # the same synthetic letter as the upload tests

FLOODS = """ỦY BAN NHÂN DÂN
XÃ BÌNH AN
Số: 12/UBND-NN
V/v báo cáo công tác phòng, chống thiên tai năm 2024

CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Bình An, ngày 02 tháng 10 năm 2024

Kính gửi: Trưởng các thôn trên địa bàn xã.

Ủy ban nhân dân xã yêu cầu trưởng các thôn kiểm tra đê bao, kênh mương và báo cáo số hộ dân
sống ở vùng trũng thấp về Văn phòng Ủy ban nhân dân xã trước ngày 15/10/2024.

Nơi nhận:
- Như trên;
- Lưu: VT.
CHỦ TỊCH
Trần Thị Bình
"""

FILES = {"a_tap_huan.txt": TRAINING, "b_thien_tai.txt": FLOODS}
QUESTION = "Lớp tập huấn sử dụng phần mềm hỏi đáp văn bản tổ chức ngày nào?"


@pytest.fixture
def docs(tmp_path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _settings(tmp_path: Path, name: str) -> Settings:
    # One files root for every index of a test, so the same file has the same key and ids.
    return Settings(data_dir=tmp_path / name, files_root=tmp_path)


def _open(tmp_path: Path, name: str, embedder, backend: str) -> Index:
    settings = _settings(tmp_path, name)
    if backend == "edge":
        return Index.open(settings, embedder=embedder)
    store = ServerStore(QdrantClient(location=":memory:"), "congvan", embedder.dim)
    return Index(settings.model_copy(update={"qdrant_url": "http://qdrant.invalid:6333"}), store, embedder)


def _points(index: Index, file: str | None = None) -> dict[str, tuple[dict, dict]]:
    """Chunk point id → (payload, vectors {"dense": list, "sparse": (indices, values)}), read raw."""
    conditions = [Condition("kind", ChunkPoint.KIND)] + ([Condition("file", file)] if file else [])
    ids = [ChunkPoint.from_payload(p).point_id for p in index.store.scroll(conditions)]
    store = index.store
    if isinstance(store, EdgeStore):
        records = store._shard.retrieve(ids, with_payload=True, with_vector=True)
    else:
        records = store._client.retrieve(store._collection, ids=ids, with_payload=True, with_vectors=True)
    out = {}
    for r in records:
        vectors = {}
        for name, v in (r.vector or {}).items():
            vectors[name] = (list(v.indices), [float(x) for x in v.values]) if name == "sparse" else list(v)
        out[str(r.id)] = (dict(r.payload or {}), vectors)
    return out


def _search(index: Index, query: str, mode: str) -> list[str]:
    dense = index.embedder.embed_query(query).tolist() if mode != "sparse" else None
    sparse = encode_query(query) if mode != "dense" else None
    return [c.file for c in index.search(dense=dense, sparse=sparse, mode=mode, limit=5)]


def _key(index: Index, docs: Path, name: str) -> str:
    return index.file_key(docs / name)


def _assert_stats_current(index: Index) -> None:
    persisted = index._read_term_stats()
    assert persisted is not None
    recount = index.count_terms()
    assert persisted.n == recount.n and dict(persisted.df) == dict(recount.df)


# --------------------------------------------------------------------------- sparse-first ingest


@pytest.mark.parametrize("backend", ["edge", "server"])
def test_sparse_first_file_is_found_and_answered_before_any_embedding(tmp_path, docs, embedder, backend):
    counting = CountingEmbedder(embedder)
    index = _open(tmp_path, "data", counting, backend)
    try:
        summary = ingest_paths(index, [docs], sparse_first=True)
        assert summary.count("ingested") == 2 and counting.passages == 0
        training = _key(index, docs, "a_tap_huan.txt")
        # Every chunk has its sparse vector and no dense one.
        points = _points(index)
        assert points and all(set(v) == {"sparse"} for _, v in points.values())
        assert _search(index, "tập huấn phần mềm hỏi đáp", "sparse")[0] == training
        assert _search(index, "tập huấn phần mềm hỏi đáp", "hybrid")[0] == training
        assert _search(index, "tập huấn phần mềm hỏi đáp", "dense") == []
        answer = Assistant(index).ask(QUESTION)
        assert not answer.abstained and answer.citations, answer.answer
        assert answer.citations[0].file == training and "20/12/2024" in answer.answer
        # The backlog lists each file's chunks, in order; the record still marks the file complete.
        backlog = dense_backlog(index)
        assert [b.file for b in backlog] == sorted(index.file_records())
        for item in backlog:
            chunks = [c for d in index.documents() if d.file == item.file for c in index.chunks(d.doc_id)]
            assert item.chunk_ids == [c.chunk_id for c in chunks]
        assert backlog_size(index) == BacklogSize(files=2, chunks=len(points))
        _assert_stats_current(index)
    finally:
        index.close()


@pytest.mark.parametrize("backend", ["edge", "server"])
def test_embed_backlog_makes_the_points_of_a_plain_ingest(tmp_path, docs, embedder, backend):
    plain = _open(tmp_path, "plain", embedder, backend)
    counting = CountingEmbedder(embedder)
    index = _open(tmp_path, "data", counting, backend)
    try:
        ingest_paths(plain, [docs])
        ingest_paths(index, [docs], sparse_first=True)
        chunks = backlog_size(index).chunks
        stats_before = index.store.retrieve([TermStatsPoint(n=0).point_id])
        seen = []
        summary = embed_backlog(index, progress=lambda done, total, file: seen.append((done, total)))
        assert (summary.files, summary.chunks, summary.missing) == (2, chunks, 0)
        assert summary.remaining == BacklogSize() and backlog_size(index) == BacklogSize()
        assert counting.passages == chunks
        assert seen[-1] == (chunks, chunks) and all(t == chunks for _, t in seen)
        assert index.store.count([Condition("kind", DenseBacklogPoint.KIND)]) == 0

        got, want = _points(index), _points(plain)
        assert got.keys() == want.keys()
        for pid, (payload, vectors) in got.items():
            assert payload == want[pid][0]
            assert vectors["sparse"] == want[pid][1]["sparse"]
            assert np.allclose(vectors["dense"], want[pid][1]["dense"], atol=1e-5)
        # Chunk texts did not change: the term statistics are untouched and still current.
        assert index.store.retrieve([TermStatsPoint(n=0).point_id]) == stats_before
        _assert_stats_current(index)
        assert index.store.retrieve([TermStatsPoint(n=0).point_id]) == \
            plain.store.retrieve([TermStatsPoint(n=0).point_id])
        assert _search(index, "tập huấn phần mềm hỏi đáp", "dense")[0] == _key(index, docs, "a_tap_huan.txt")
        # Nothing left: a second call does nothing.
        again = embed_backlog(index)
        assert (again.files, again.chunks) == (0, 0) and counting.passages == chunks
    finally:
        index.close()
        plain.close()


class _FailsAfter(CountingEmbedder):
    """Raises once it has embedded ``limit`` passages (the app stopped half-way)."""

    def __init__(self, inner, limit: int) -> None:
        super().__init__(inner)
        self.limit = limit

    def embed_passages(self, texts):
        if self.passages + len(texts) > self.limit:
            raise RuntimeError("stopped")
        return super().embed_passages(texts)


def test_an_interrupted_embed_resumes_without_redoing_finished_files(tmp_path, docs, embedder):
    with Index.open(_settings(tmp_path, "data"), embedder=embedder) as index:
        ingest_paths(index, [docs], sparse_first=True)
        first, second = dense_backlog(index)
        index.embedder = _FailsAfter(embedder, limit=len(first.chunk_ids))
        with pytest.raises(RuntimeError, match="stopped"):
            embed_backlog(index)
        # The first file is done (dense vectors, out of the backlog); the second is still waiting.
        assert [b.file for b in dense_backlog(index)] == [second.file]
        assert all("dense" in v for _, v in _points(index, first.file).values())
        assert all("dense" not in v for _, v in _points(index, second.file).values())

        counting = index.embedder = CountingEmbedder(embedder)
        summary = embed_backlog(index)
        assert (summary.files, summary.chunks) == (1, len(second.chunk_ids))
        assert counting.passages == len(second.chunk_ids)  # the finished file was not redone
        assert backlog_size(index) == BacklogSize()
        assert all("dense" in v for _, v in _points(index).values())
        _assert_stats_current(index)


def test_the_backlog_follows_reingests_and_prunes(tmp_path, docs, embedder):
    counting = CountingEmbedder(embedder)
    with Index.open(_settings(tmp_path, "data"), embedder=counting) as index:
        ingest_paths(index, [docs], sparse_first=True)
        training, floods = _key(index, docs, "a_tap_huan.txt"), _key(index, docs, "b_thien_tai.txt")
        # An unchanged re-ingest (plain or sparse-first) leaves the backlog alone and embeds nothing.
        for sparse_first in (False, True):
            summary = ingest_paths(index, [docs], sparse_first=sparse_first)
            assert {o.status for o in summary.outcomes} == {"unchanged"}
            assert [b.file for b in dense_backlog(index)] == [training, floods]
        assert counting.passages == 0
        # A changed file re-ingested plainly: its backlog point goes with its old points.
        (docs / "a_tap_huan.txt").write_text(TRAINING.replace("20/12/2024", "27/12/2024"), encoding="utf-8")
        ingest_paths(index, [docs])
        assert [b.file for b in dense_backlog(index)] == [floods]
        assert all("dense" in v for _, v in _points(index, training).values())
        # A changed file re-ingested sparse-first: one backlog point, of the new chunks.
        (docs / "a_tap_huan.txt").write_text(TRAINING.replace("20/12/2024", "28/12/2024"), encoding="utf-8")
        ingest_paths(index, [docs], sparse_first=True)
        assert [b.file for b in dense_backlog(index)] == [training, floods]
        assert index.store.count([Condition("kind", DenseBacklogPoint.KIND), Condition("file", training)]) == 1
        # A pruned file's backlog point is removed with it.
        (docs / "b_thien_tai.txt").unlink()
        summary = ingest_paths(index, [docs], prune=True)
        assert summary.count("pruned") == 1
        assert [b.file for b in dense_backlog(index)] == [training]
        _assert_stats_current(index)


def test_a_sparse_first_rebuild_swaps_in_an_index_that_embed_completes(tmp_path, docs, embedder):
    from ingest.rebuild import rebuild_index

    settings = _settings(tmp_path, "data")
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [docs])  # a complete index, rebuilt sparse-first below
    summary = rebuild_index(settings, [], embedder=embedder, sparse_first=True)
    assert summary.count("ingested") == 2
    with Index.open(settings, embedder=embedder) as index:
        assert backlog_size(index).files == 2
        assert all(set(v) == {"sparse"} for _, v in _points(index).values())
        embed_backlog(index)
        assert backlog_size(index) == BacklogSize()
        assert all(set(v) == {"dense", "sparse"} for _, v in _points(index).values())
        _assert_stats_current(index)


# --------------------------------------------------------------------------- command line


def test_cli_ingest_sparse_first_then_embed(tmp_path, docs, embedder):
    data = tmp_path / "cli"
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", str(docs), "--sparse-first", "--data-dir", str(data), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "2 ingested" in result.output
    assert "of 2 file(s) await dense vectors" in result.output and "congvan embed" in result.output

    result = runner.invoke(cli, ["ingest", str(docs), "--data-dir", str(data), "--json"])
    assert result.exit_code == 0, result.output
    waiting = json.loads(result.output)["dense_backlog"]
    assert waiting["files"] == 2 and waiting["chunks"] > 0

    # The data directory's lock is taken: not while another process has the index open.
    settings = Settings(data_dir=data)
    with Index.open(settings, embedder=embedder):
        locked = runner.invoke(cli, ["embed", "--data-dir", str(data), "--quiet"])
    assert locked.exit_code != 0 and "open in another process" in locked.output

    result = runner.invoke(cli, ["embed", "--data-dir", str(data), "--limit", "1", "--json"])
    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    assert done["files"] == 1 and done["remaining_files"] == 1
    result = runner.invoke(cli, ["embed", "--data-dir", str(data), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "of 1 file(s)" in result.output and "still await" not in result.output
    result = runner.invoke(cli, ["embed", "--data-dir", str(data)])
    assert result.exit_code == 0 and "Nothing to embed" in result.output
    result = runner.invoke(cli, ["ingest", str(docs), "--data-dir", str(data), "--quiet"])
    assert "await dense vectors" not in result.output


# --------------------------------------------------------------------------- web app upload


def test_an_upload_is_answerable_before_its_dense_vectors_then_completed(tmp_path, embedder):
    from rag.web.services import Services, UploadResult, UploadSearchable

    upload = tmp_path / "Công văn tập huấn 77.txt"
    upload.write_text(TRAINING, encoding="utf-8")
    services = Services(Index.open(Settings(data_dir=tmp_path / "data"), embedder=embedder))
    try:
        seen = []
        steps = services.upload_steps(upload, upload.name, progress=lambda d, t, f: seen.append((d, t)))
        searchable = next(steps)
        assert isinstance(searchable, UploadSearchable) and "từ khoá" in searchable.message
        # Paused at this step: nothing embedded yet, and the assistant already answers from it.
        assert backlog_size(services.index).files == 1
        answer = services.ask(QUESTION)
        assert answer.citations and answer.citations[0].file.endswith(upload.name)
        seen.clear()
        result, = list(steps)
        assert isinstance(result, UploadResult) and result.ok and result.message.startswith("Đã nạp")
        assert backlog_size(services.index) == BacklogSize()
        chunks = searchable.chunks
        assert seen and seen[-1] == (chunks, chunks)  # the dense vectors' progress was shown
        assert services.ingest_queue.running is None
        assert _search(services.index, "tập huấn phần mềm hỏi đáp", "dense")
    finally:
        services.close()


def test_the_app_completes_a_backlog_left_by_an_earlier_run_in_the_background(tmp_path, docs, embedder):
    from rag.web.services import Services

    settings = Settings(data_dir=tmp_path / "data")
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [docs], sparse_first=True)  # as if the app stopped before the dense side
    services = Services(Index.open(settings, embedder=embedder))
    try:
        thread = services.complete_dense_in_background()
        assert thread is not None
        thread.join(120)
        assert not thread.is_alive() and backlog_size(services.index) == BacklogSize()
        assert services.ingest_queue.running is None
        assert _search(services.index, "tập huấn phần mềm hỏi đáp", "dense")
        assert services.complete_dense_in_background() is None  # nothing left to do
    finally:
        services.close()


def test_the_upload_page_shows_the_file_searchable_then_the_dense_progress(tmp_path, embedder):
    import gradio as gr

    from rag.web.services import Services
    from rag.web.upload_page import UploadPage

    upload = tmp_path / "tap_huan.txt"
    upload.write_text(TRAINING, encoding="utf-8")
    services = Services(Index.open(Settings(data_dir=tmp_path / "data"), embedder=embedder))
    calls = []

    def progress(value, desc=None, unit=None, **_):
        calls.append((value, desc, unit))

    try:
        with gr.Blocks():
            page = UploadPage(services)
        htmls = [html for html, _ in page.ingest([str(upload)], progress=progress)]
    finally:
        services.close()
    assert any("cv-upload-searchable" in h and "đã tìm được bằng từ khoá" in h for h in htmls)
    assert "cv-upload-searchable" not in htmls[-1] and "Đã nạp “tap_huan.txt”" in htmls[-1]
    filling = [(value, unit) for value, desc, unit in calls
               if desc and "Đã tìm được bằng từ khoá; đang bổ sung vector ngữ nghĩa" in desc]
    assert filling and filling[-1][1] == "đoạn" and filling[-1][0][0] == filling[-1][0][1] > 0
