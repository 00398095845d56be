"""Start-up independent of archive size: term statistics kept by ingest, read in one point.

After every kind of ingest change (first ingest, a changed file, a duplicate, a pruned file, a
rebuild, the server path) the persisted statistics equal a full recount over every chunk; the
answerer reads them without scrolling chunks; an index made before they were kept still works.
"""

from __future__ import annotations

import shutil

import pytest
from qdrant_client import QdrantClient

from ingest.index import Index
from ingest.pipeline import ingest_paths
from ingest.rebuild import rebuild_index
from ingest.schema import TERM_STATS_PENDING, ChunkPoint, TermStatsPoint
from ingest.store import Condition, ServerStore
from rag.answer import TermStats
from rag.assistant import Assistant

_A = "000_soldtbxh_soc_trang_trien_khai_61-CTr-TU.txt"
_B = "004_ubnd_kon_tum_ngay_cong_tac_xa_hoi_2024.txt"


def _assert_current(index: Index) -> None:
    """The persisted statistics are there, trusted, and equal a recount of every chunk."""
    persisted = index._read_term_stats()
    assert persisted is not None, "no current term statistics in the index"
    recount = TermStats(c.text for c in index.chunks())  # how the answerer counted before
    assert persisted.n == recount.n == index.store.count([Condition("kind", ChunkPoint.KIND)])
    assert dict(persisted.df) == {t: c for t, c in recount.df.items() if c > 0}


def _no_chunk_scroll(index: Index, monkeypatch) -> list:
    """Make a scroll over every chunk fail; returns the list of scrolls made."""
    calls = []
    original = index.store.scroll

    def scroll(conditions, fields=None):
        calls.append(conditions)
        narrowed = any(c.key in ("file", "doc_id") for c in conditions)
        if Condition("kind", ChunkPoint.KIND) in conditions and not narrowed:
            raise AssertionError("start-up scrolled every chunk")
        return original(conditions, fields)

    monkeypatch.setattr(index.store, "scroll", scroll)
    return calls


def test_statistics_follow_every_change(settings, small_corpus, embedder, tmp_path):
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [small_corpus])
        _assert_current(index)
        n_first = index.term_counts().n

        # a changed file: its old chunks counted out, the new ones in
        target = small_corpus / _A
        target.write_text(target.read_text(encoding="utf-8").replace(
            "Rất mong Quý cơ quan", "Hạn chót nộp báo cáo chuyên đề là ngày 15/12/2024. Rất mong Quý cơ quan"),
            encoding="utf-8")
        ingest_paths(index, [small_corpus])
        _assert_current(index)
        assert "15/12/2024" in index.term_counts().df

        # a third file, then overwritten with the bytes of another: a duplicate, its points removed
        extra = small_corpus / "extra.txt"
        other = (small_corpus / _B).read_text(encoding="utf-8")
        extra.write_text(other.replace("Kon Tum", "Gia Lai"), encoding="utf-8")
        ingest_paths(index, [small_corpus])
        _assert_current(index)
        assert index.term_counts().n > n_first
        shutil.copy(small_corpus / _B, extra)
        summary = ingest_paths(index, [small_corpus])
        assert any("same content" in w for o in summary.outcomes for w in o.warnings)
        _assert_current(index)

        # a removed file, pruned
        (small_corpus / _B).unlink()
        extra.unlink()
        summary = ingest_paths(index, [small_corpus], prune=True)
        assert summary.count("pruned") >= 1
        _assert_current(index)
        assert index.state(TERM_STATS_PENDING) is None

        # an unchanged run writes nothing
        before = index.store.retrieve([TermStatsPoint().point_id])
        ingest_paths(index, [small_corpus])
        assert index.store.retrieve([TermStatsPoint().point_id]) == before

    # a rebuild: the new index carries statistics of its own
    shutil.copy(small_corpus / _A, tmp_path / "again.txt")
    rebuild_index(settings, [tmp_path / "again.txt"], embedder=embedder)
    with Index.open(settings, embedder=embedder) as index:
        _assert_current(index)


def test_start_up_reads_one_point_and_a_legacy_index_is_counted_once(settings, small_corpus, embedder,
                                                                     monkeypatch):
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [small_corpus])
        expected = index.count_terms()
    with Index.open(settings, embedder=embedder) as index:
        calls = _no_chunk_scroll(index, monkeypatch)
        stats = Assistant(index).term_stats
        assert (stats.n, dict(stats.df)) == (expected.n, dict(expected.df))
        assert stats.idf("chỉ") >= 0
        assert not calls
        # an index made before statistics were kept: counted from the chunks once, then written
        monkeypatch.undo()
        index.store.delete([Condition("kind", TermStatsPoint.KIND)])
        assert index._read_term_stats() is None
        legacy = Assistant(index).term_stats
        assert (legacy.n, dict(legacy.df)) == (expected.n, dict(expected.df))
        _assert_current(index)
        _no_chunk_scroll(index, monkeypatch)
        assert Assistant(index).term_stats.n == expected.n
        # an interrupted run (its pending flag left behind): recounted, never trusted as it is
        monkeypatch.undo()
        index.set_state(TERM_STATS_PENDING, "an-interrupted-run")
        assert index._read_term_stats() is None
        assert index.term_counts().n == expected.n
        _assert_current(index)


def test_an_answer_needs_no_chunk_scroll(settings, small_corpus, embedder, monkeypatch):
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [small_corpus])
    with Index.open(settings, embedder=embedder) as index:
        _no_chunk_scroll(index, monkeypatch)
        answer = Assistant(index).ask("Ngày Công tác xã hội năm 2024 ở Kon Tum làm gì?")
        assert answer.retrieved


@pytest.mark.parametrize("interleaved", [False, True])
def test_server_path_keeps_statistics(settings, small_corpus, embedder, interleaved):
    store = ServerStore(QdrantClient(location=":memory:"), "congvan", embedder.dim)
    server = settings.model_copy(update={"qdrant_url": "http://qdrant.invalid:6333"})
    index = Index(server, store, embedder)
    try:
        if interleaved:
            # another process's run took the pending flag meanwhile: this run marks the
            # statistics stale rather than write its own over theirs
            index.delete_file("nothing-yet.txt")
            index.set_state(TERM_STATS_PENDING, "another-run")
            index.finish_term_stats()
            assert index.state(TERM_STATS_PENDING) == "stale"
            assert index._read_term_stats() is None
        ingest_paths(index, [small_corpus])
        _assert_current(index)
        (small_corpus / _B).unlink()
        ingest_paths(index, [small_corpus], prune=True)
        _assert_current(index)
    finally:
        index.close()


def test_term_counts_taken_in_and_out_equal_a_fresh_count():
    from ingest.index import TermCounts

    kept = ["Sở Tài chính báo cáo trước ngày 10/11.", "Sở Y tế báo cáo quý II."]
    gone = ["Ủy ban nhân dân xã tổ chức hội nghị.", "Sở Y tế kiểm tra."]
    counts = TermCounts()
    counts.add(kept + gone)
    counts.remove(gone)
    fresh = TermCounts()
    fresh.add(kept)
    assert counts.n == fresh.n == 2
    assert counts.df == fresh.df  # "hoi nghi" and "kiem tra" are gone, not kept at zero
    counts.remove([])  # a new file's replacement counts nothing out
    assert counts.df == fresh.df
