"""The ingest run: incremental behaviour, bad input in a real run, locking, the server path."""

from __future__ import annotations

import json

import pymupdf
import pytest
from click.testing import CliRunner
from qdrant_client import QdrantClient

from ingest.errors import IndexLockedError, IndexMismatchError
from ingest.index import Index
from ingest.pipeline import ingest_paths
from ingest.store import Condition, PointRecord, ServerStore, point_id
from rag.cli import cli
from tests.conftest import CORPUS, CountingEmbedder


def _status(summary):
    return {o.file.rsplit("/", 1)[-1]: o.status for o in summary.outcomes}


def test_corpus_yields_six_documents_with_chunks(corpus_index):
    docs = corpus_index.documents()
    assert len(docs) == 6  # seed 002 holds a cover letter and its attachment
    for doc in docs:
        chunks = corpus_index.chunks(doc.doc_id)
        assert chunks, doc.file
        for chunk in chunks:
            assert doc.text[chunk.start:chunk.end] == chunk.text


def test_unchanged_corpus_is_not_embedded_again(corpus_index, embedder):
    counting = CountingEmbedder(embedder)
    index = Index(corpus_index.settings, corpus_index.store, counting)
    summary = ingest_paths(index, [CORPUS])
    assert {o.status for o in summary.outcomes} == {"unchanged"}
    assert counting.passages == 0


def test_unchanged_files_are_told_by_their_bytes_and_one_facet_request(settings, small_corpus, embedder,
                                                                       monkeypatch):
    import ingest.pipeline

    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [small_corpus])
        loaded, counts = [], []
        monkeypatch.setattr(ingest.pipeline, "load_file", lambda path, **kw: loaded.append(path))
        monkeypatch.setattr(index.store, "count", lambda *a, **kw: counts.append(a))
        facets = []
        count_by = index.store.count_by
        monkeypatch.setattr(index.store, "count_by", lambda *a, **kw: facets.append(a) or count_by(*a, **kw))
        again = ingest_paths(index, [small_corpus])
    assert [o.status for o in again.outcomes] == ["unchanged", "unchanged"]
    assert not loaded and len(facets) == 1  # no file parsed
    # No count per file (the checks that register terms and document summaries are complete are
    # per run).
    assert len(counts) <= 4 and not any(c.key == "file" for args in counts for c in args[0])


def test_a_large_run_writes_in_batches_instead_of_holding_every_parsed_file(settings, small_corpus, embedder,
                                                                            monkeypatch):
    import ingest.pipeline

    settings = settings.model_copy(update={"ingest_batch_chunks": 1})
    recorded_when_parsing = []
    parse = ingest.pipeline.parse_file
    with Index.open(settings, embedder=embedder) as index:
        def watching(loaded, **kw):
            recorded_when_parsing.append(sorted(index.file_records()))
            return parse(loaded, **kw)

        monkeypatch.setattr(ingest.pipeline, "parse_file", watching)
        seen = []
        summary = ingest_paths(index, [small_corpus], progress=lambda done, total, f: seen.append((done, total)))
        assert [o.status for o in summary.outcomes] == ["ingested", "ingested"]
        assert len(index.file_records()) == 2
    # The second file was parsed after the first was written.
    assert recorded_when_parsing[0] == [] and len(recorded_when_parsing[1]) == 1
    assert seen[-1][0] == seen[-1][1] == sum(o.chunks for o in summary.outcomes)


def test_changed_file_replaces_its_chunks(settings, small_corpus, embedder):
    counting = CountingEmbedder(embedder)
    with Index.open(settings, embedder=counting) as index:
        ingest_paths(index, [small_corpus])
        first = counting.passages
        target = small_corpus / "000_soldtbxh_soc_trang_trien_khai_61-CTr-TU.txt"
        text = target.read_text(encoding="utf-8")
        target.write_text(text.replace("Rất mong Quý cơ quan", "Hạn chót nộp báo cáo là ngày 15/12/2024. Rất mong Quý cơ quan"),
                          encoding="utf-8")
        summary = ingest_paths(index, [small_corpus])
        assert _status(summary) == {target.name: "ingested", "004_ubnd_kon_tum_ngay_cong_tac_xa_hoi_2024.txt": "unchanged"}
        assert 0 < counting.passages - first < first  # only the changed file was embedded
        doc = next(d for d in index.documents() if d.file == index.file_key(target))
        texts = [c.text for c in index.chunks(doc.doc_id)]
        assert any("15/12/2024" in t for t in texts)
        # no stale copy of the old version is left behind
        assert index.store.count([Condition("kind", "document"), Condition("file", index.file_key(target))]) == 1


def test_deleted_file_goes_only_with_prune(settings, small_corpus, embedder):
    gone = small_corpus / "004_ubnd_kon_tum_ngay_cong_tac_xa_hoi_2024.txt"
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [small_corpus])
        gone.unlink()
        ingest_paths(index, [small_corpus])
        assert any(d.file == index.file_key(gone) for d in index.documents())
        summary = ingest_paths(index, [small_corpus], prune=True)
        assert _status(summary)[gone.name] == "pruned"
        assert not any(d.file == index.file_key(gone) for d in index.documents())
        assert index.store.count([Condition("file", index.file_key(gone))]) == 0


class _FailingEmbedder(CountingEmbedder):
    """Stops the run like a power cut would: an exception that is not caught per file."""

    def __init__(self, inner, fail_after):
        super().__init__(inner)
        self.fail_after = fail_after

    def embed_passages(self, texts):
        if self.passages >= self.fail_after:
            raise KeyboardInterrupt
        return super().embed_passages(texts)


def test_interrupted_run_leaves_a_usable_index_and_a_rerun_finishes(settings, small_corpus, embedder):
    # Two texts per embedder call, so the power cut falls mid-run, between two calls.
    settings = settings.model_copy(update={"embed_call_texts": 2})
    with Index.open(settings, embedder=_FailingEmbedder(embedder, fail_after=4)) as index:
        with pytest.raises(KeyboardInterrupt):
            ingest_paths(index, [small_corpus])
        index.documents()  # still readable
    with Index.open(settings, embedder=embedder) as index:
        summary = ingest_paths(index, [small_corpus])
        assert {o.status for o in summary.outcomes} <= {"ingested", "unchanged"}
        assert len(index.documents()) == 2
        records = index.file_records()
        for doc in index.documents():
            assert len(index.chunks(doc.doc_id)) == records[doc.file].chunks



class _RefusesOneText(CountingEmbedder):
    """An embedder that cannot take one file's text (a model error on that input)."""

    def embed_passages(self, texts):
        if any("ĐOẠN KHÔNG NHÚNG ĐƯỢC" in t for t in texts):
            raise ValueError("input the model cannot take")
        return super().embed_passages(texts)


def test_files_embedded_together_and_one_the_embedder_refuses_fails_alone(settings, small_corpus, embedder):
    (small_corpus / "bad.txt").write_text("KẾ HOẠCH\nĐOẠN KHÔNG NHÚNG ĐƯỢC: báo cáo trước ngày 10/11.", encoding="utf-8")
    counting = _RefusesOneText(embedder)
    with Index.open(settings, embedder=counting) as index:
        summary = ingest_paths(index, [small_corpus])
        outcomes = {o.file.rsplit("/", 1)[-1]: o for o in summary.outcomes}
        assert outcomes["bad.txt"].status == "failed" and "could not index" in outcomes["bad.txt"].reason
        good = [o for name, o in outcomes.items() if name != "bad.txt"]
        assert good and all(o.status == "ingested" and o.chunks for o in good)
        assert len(index.documents()) == 2


def test_progress_only_moves_forward_while_files_are_embedded_together(settings, small_corpus, embedder):
    # Files embedded together, a few texts a call, then written one by one: the count shown
    # (the web app's upload bar) must never step back.
    settings = settings.model_copy(update={"embed_call_texts": 3})
    seen = []
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [small_corpus], progress=lambda done, total, key: seen.append((done, total)))
    counts = [done for done, _ in seen]
    assert len(counts) > 3 and counts == sorted(counts)
    assert counts[-1] == seen[-1][1] and all(done <= total for done, total in seen)

def _bad_inputs(folder):
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (folder / "undecodable.txt").write_bytes("Kế hoạch".encode("utf-8")[:-1] + b"\xff\xfe garbage \xc3")
    (folder / "truncated.docx").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    pdf = pymupdf.open()
    page = pdf.new_page()
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 40, 40), False)
    pix.clear_with(200)
    page.insert_image(page.rect, pixmap=pix)
    pdf.save(folder / "scan.pdf")
    (folder / "table.xlsx").write_bytes(b"PK\x03\x04")
    (folder / "huge.txt").write_text("Kế hoạch " * 200_000, encoding="utf-8")


EXPECTED_REASONS = {
    "empty.txt": "empty",
    "binary.txt": "binary",
    "undecodable.txt": "decode",
    "truncated.docx": ".docx",
    "scan.pdf": "OCR",  # "needs OCR" without Tesseract, "OCR found no text" with it
    "table.xlsx": "unsupported file type",
    "huge.txt": "limit",
}


def test_bad_files_are_reported_and_the_good_ones_indexed(small_corpus, tmp_path, embedder):
    _bad_inputs(small_corpus)
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", str(small_corpus), "--data-dir", str(tmp_path / "d"), "--json"],
                           env={"CONGVAN_MAX_FILE_MB": "1"})
    assert result.exit_code == 1, result.output
    summary = json.loads(result.output)
    by_name = {o["file"].rsplit("/", 1)[-1]: o for o in summary["outcomes"]}
    for name, fragment in EXPECTED_REASONS.items():
        assert by_name[name]["status"] == "failed"
        assert fragment in by_name[name]["reason"], (name, by_name[name]["reason"])
    assert summary["counts"] == {"ingested": 2, "unchanged": 0, "failed": len(EXPECTED_REASONS), "pruned": 0}


def test_a_file_that_turns_corrupt_keeps_its_indexed_version(settings, small_corpus, embedder):
    target = small_corpus / "004_ubnd_kon_tum_ngay_cong_tac_xa_hoi_2024.txt"
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [small_corpus])
        before = index.store.count([Condition("file", index.file_key(target))])
        target.write_bytes(b"\x00\x01\x02" * 100)
        summary = ingest_paths(index, [small_corpus], prune=True)
        assert _status(summary)[target.name] == "failed"
        assert index.store.count([Condition("file", index.file_key(target))]) == before


def test_second_process_on_the_embedded_index_is_told_it_is_locked(settings, embedder, tmp_path):
    with Index.open(settings, embedder=embedder):
        with pytest.raises(IndexLockedError):
            Index.open(settings, embedder=embedder)
        result = CliRunner().invoke(cli, ["docs", "--data-dir", str(settings.data_dir)])
        assert result.exit_code != 0
        assert "open in another process" in result.output


def test_index_built_with_another_model_is_refused(settings, embedder):
    with Index.open(settings, embedder=embedder) as index:
        index.store.upsert([PointRecord(point_id("congvan:manifest"),
                                        {"kind": "manifest", "embed_model": "other-model", "dim": 768,
                                         "schema_version": 1})])
    with pytest.raises(IndexMismatchError, match="other-model"):
        Index.open(settings, embedder=embedder)


def test_server_path_indexes_the_same_documents(settings, small_corpus, embedder, corpus_index):
    store = ServerStore(QdrantClient(location=":memory:"), "congvan", embedder.dim)
    index = Index(settings, store, embedder)
    summary = ingest_paths(index, [small_corpus])
    assert summary.count("ingested") == 2
    served = {d.metadata.number: len(index.chunks(d.doc_id)) for d in index.documents()}
    embedded = {d.metadata.number: len(corpus_index.chunks(d.doc_id)) for d in corpus_index.documents()
                if d.file.rsplit("/", 1)[-1] in {p.name for p in small_corpus.iterdir()}}
    assert served == embedded
    index.close()


def test_cli_docs_lists_metadata_as_json(tmp_path):
    data = tmp_path / "cli"
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", str(CORPUS / "002_ubnd_soc_trang_3452-UBND-VX_kem_61-CTr-TU.txt"),
                                 "--data-dir", str(data), "--quiet"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["docs", "--json", "--data-dir", str(data)])
    rows = json.loads(result.output)
    assert [r["metadata"]["number"] for r in rows] == ["3452/UBND-VX", "61-CTr/TU"]
    assert "text" not in rows[0]
