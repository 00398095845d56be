"""Nothing indexed is lost: rebuilds under the lock, validated and swapped; integrity checks;
resumed first starts and uploads; one name per file whatever the working directory."""

from __future__ import annotations

import os
import shutil

import pytest
from click.testing import CliRunner

from ingest.errors import IndexDamagedError, IndexLockedError
from ingest.index import Index
from ingest.pipeline import ingest_paths
from ingest.rebuild import RebuildAborted, rebuild_index
from ingest.store import Condition
from rag.cli import cli
from ingest.settings import Settings
from tests.conftest import CORPUS, SEED_FILES

pytestmark = pytest.mark.slow

NOTICE = """ỦY BAN NHÂN DÂN XÃ AN BÌNH
Số: 12/TB-UBND
THÔNG BÁO
Về việc nộp báo cáo
Giao Văn phòng xã tổng hợp báo cáo trước ngày {day}/11/2026.
"""


def _files(index: Index) -> set[str]:
    return {key.rsplit("/", 1)[-1] for key in index.file_records()}


@pytest.fixture
def two_folders(tmp_path):
    """A notice in a 'corpus' folder and another in an 'uploads' folder, as the app has them."""
    corpus, uploads = tmp_path / "corpus", tmp_path / "uploads"
    corpus.mkdir()
    uploads.mkdir()
    (corpus / "a.txt").write_text(NOTICE.format(day=10), encoding="utf-8")
    (uploads / "b.txt").write_text(NOTICE.format(day=20), encoding="utf-8")
    return corpus, uploads


def test_rebuild_is_refused_while_another_process_holds_the_index(settings, two_folders, embedder):
    corpus, uploads = two_folders
    with Index.open(settings, embedder=embedder) as live:  # the running web app
        ingest_paths(live, [corpus, uploads])
        with pytest.raises(IndexLockedError):
            rebuild_index(settings, [corpus / "a.txt"], embedder=embedder)
        result = CliRunner().invoke(cli, ["ingest", "--rebuild", str(corpus / "a.txt"),
                                          "--data-dir", str(settings.data_dir)])
        assert result.exit_code != 0 and "open in another process" in result.output
        assert _files(live) == {"a.txt", "b.txt"}
    with Index.open(settings, embedder=embedder) as index:
        assert _files(index) == {"a.txt", "b.txt"}


def test_rebuild_checks_its_inputs_before_touching_the_index(settings, two_folders, embedder):
    corpus, uploads = two_folders
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [corpus, uploads])
    result = CliRunner().invoke(cli, ["ingest", "--rebuild", str(corpus.parent / "typo_dir"),
                                      "--data-dir", str(settings.data_dir)])
    assert result.exit_code == 1 and "does not exist" in result.output
    with Index.open(settings, embedder=embedder) as index:
        assert _files(index) == {"a.txt", "b.txt"}


def test_plain_rebuild_keeps_every_indexed_file_not_only_the_corpus(settings, two_folders, embedder):
    corpus, uploads = two_folders
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [corpus, uploads])
    summary = rebuild_index(settings, [], embedder=embedder)
    assert summary.count("ingested") == 2
    with Index.open(settings, embedder=embedder) as index:
        assert _files(index) == {"a.txt", "b.txt"}
        assert not (settings.data_dir / "qdrant" / "congvan.rebuild").exists()


def test_rebuild_that_would_lose_a_file_keeps_the_old_index(settings, two_folders, embedder):
    corpus, uploads = two_folders
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [corpus, uploads])
    (uploads / "b.txt").write_bytes(b"\x00\x01\x02" * 50)  # now unreadable
    (corpus / "a.txt").unlink()  # and gone
    with pytest.raises(RebuildAborted, match="old index is kept"):
        rebuild_index(settings, [], embedder=embedder)
    with Index.open(settings, embedder=embedder) as index:
        assert _files(index) == {"a.txt", "b.txt"}
        texts = [c.text for d in index.documents() for c in index.chunks(d.doc_id)]
        assert any("20/11/2026" in t for t in texts)


def test_missing_points_are_not_reported_unchanged(settings, two_folders, embedder):
    corpus, _ = two_folders
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [corpus])
        key = index.file_key(corpus / "a.txt")
        recorded = index.file_records()[key].chunks
        index.store.delete([Condition("kind", "chunk"), Condition("file", key)])  # a damaged segment
        summary = ingest_paths(index, [corpus])
        outcome = summary.outcomes[0]
        assert outcome.status == "ingested", outcome
        assert any("lost" in w for w in outcome.warnings)
        assert index.store.count([Condition("kind", "chunk"), Condition("file", key)]) == recorded


@pytest.mark.parametrize("damaged", ["*", "payload_storage/page_0.dat"])
def test_damaged_index_gets_a_named_error_and_repair_rebuilds_it(settings, two_folders, embedder, damaged):
    corpus, uploads = two_folders
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [corpus, uploads])
    shard = settings.data_dir / "qdrant" / "congvan"
    for path in shard.rglob(damaged):  # truncate the engine's storage files
        if path.is_file() and path.stat().st_size > 0:
            with path.open("r+b") as f:
                f.truncate(min(1000, path.stat().st_size // 3))
    with pytest.raises(IndexDamagedError, match="--repair"):
        with Index.open(settings, embedder=embedder) as index:
            index.documents()
    result = CliRunner().invoke(cli, ["docs", "--data-dir", str(settings.data_dir)])
    assert result.exit_code == 1 and "damaged" in result.output and "--repair" in result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    result = CliRunner().invoke(cli, ["ingest", "--repair", "--data-dir", str(settings.data_dir), "--quiet"])
    assert result.exit_code == 0, result.output
    with Index.open(settings, embedder=embedder) as index:
        assert _files(index) == {"a.txt", "b.txt"}


def test_same_file_from_two_working_directories_is_one_file(settings, two_folders, embedder, monkeypatch):
    corpus, _ = two_folders
    with Index.open(settings, embedder=embedder) as index:
        monkeypatch.chdir(corpus)
        ingest_paths(index, [corpus / "a.txt"])
        monkeypatch.chdir(corpus.parent)
        summary = ingest_paths(index, [corpus / "a.txt"])
        assert [o.status for o in summary.outcomes] == ["unchanged"]
        assert len(index.file_records()) == 1


def test_a_copy_of_an_indexed_file_is_not_indexed_twice(settings, two_folders, embedder):
    corpus, uploads = two_folders
    shutil.copy(corpus / "a.txt", uploads / "copy-of-a.txt")
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [corpus])
        summary = ingest_paths(index, [uploads])
        by_name = {o.file.rsplit("/", 1)[-1]: o for o in summary.outcomes}
        assert by_name["copy-of-a.txt"].status == "unchanged"
        assert "same content as" in by_name["copy-of-a.txt"].warnings[-1]
        assert by_name["b.txt"].status == "ingested"
        assert _files(index) == {"a.txt", "b.txt"}


def test_a_file_over_the_chunk_cap_is_refused_with_the_figure(settings, tmp_path, embedder):
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "big.txt").write_text("\n\n".join(f"{i}. Nội dung mục {i} " + "chữ " * 300 for i in range(40)),
                                    encoding="utf-8")
    (folder / "small.txt").write_text(NOTICE.format(day=5), encoding="utf-8")
    with Index.open(settings.model_copy(update={"max_chunks_per_file": 5}), embedder=embedder) as index:
        summary = ingest_paths(index, [folder])
        by_name = {o.file.rsplit("/", 1)[-1]: o for o in summary.outcomes}
        assert by_name["big.txt"].status == "failed"
        assert "too large to index" in by_name["big.txt"].reason and "limit of 5" in by_name["big.txt"].reason
        assert by_name["small.txt"].status == "ingested"
        # The confirmation path: a larger cap for this run.
        again = ingest_paths(index, [folder / "big.txt"], max_chunks=1000)
        assert again.outcomes[0].status == "ingested"


def test_first_start_resumes_an_interrupted_corpus_ingest(tmp_path, embedder):
    from rag.web.server import ensure_corpus, open_services, resume_uploads

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in ("000", "004"):
        shutil.copy(CORPUS / SEED_FILES[n], corpus / SEED_FILES[n])
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    services = open_services(settings, embedder=embedder)
    try:
        ingest_paths(services.index, [corpus / SEED_FILES["000"]])  # killed after the first file
        uploads = services.uploads_dir
        uploads.mkdir(parents=True)
        (uploads / "stored-not-indexed.txt").write_text(NOTICE.format(day=7), encoding="utf-8")
        (uploads / "broken.txt").write_bytes(b"\x00\x01" * 40)
        summary = ensure_corpus(services)
        assert summary is not None and {o.file.rsplit("/", 1)[-1]: o.status for o in summary.outcomes} == {
            SEED_FILES["000"]: "unchanged", SEED_FILES["004"]: "ingested"}
        assert ensure_corpus(services) is None  # complete now: later starts skip it
        resumed = resume_uploads(services)
        assert {o.file.rsplit("/", 1)[-1]: o.status for o in resumed.outcomes} == {
            "stored-not-indexed.txt": "ingested", "broken.txt": "failed"}
        assert not (uploads / "broken.txt").exists()
        assert resume_uploads(services) is None
    finally:
        services.close()


def test_a_symlink_loop_argument_is_reported_and_the_rest_indexed(settings, two_folders, embedder):
    corpus, _ = two_folders
    loop = corpus.parent / "loop"
    os.symlink(loop, loop)
    with Index.open(settings, embedder=embedder) as index:
        summary = ingest_paths(index, [loop, corpus])
    statuses = {o.file.rsplit("/", 1)[-1]: o.status for o in summary.outcomes}
    assert statuses == {"loop": "failed", "a.txt": "ingested"}


def test_a_moved_file_replaces_its_old_name(settings, two_folders, embedder):
    corpus, uploads = two_folders
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [corpus])
        (corpus / "a.txt").rename(uploads / "a-renamed.txt")
        summary = ingest_paths(index, [uploads])
        by_name = {o.file.rsplit("/", 1)[-1]: o for o in summary.outcomes}
        assert by_name["a-renamed.txt"].status == "ingested"
        assert "moved from" in by_name["a-renamed.txt"].warnings[-1]
        assert _files(index) == {"a-renamed.txt", "b.txt"}


def test_an_index_made_before_roots_were_recorded_keeps_its_names(tmp_path, two_folders, embedder, monkeypatch):
    """Old indexes named files relative to the working directory: that root is adopted once."""
    from ingest.index import _MANIFEST_ID
    from ingest.schema import Manifest

    corpus, _ = two_folders
    elsewhere = tmp_path / "project"
    elsewhere.mkdir()
    settings = Settings(data_dir=elsewhere / "data")
    monkeypatch.chdir(corpus.parent)  # the old index was built from here: keys "corpus/a.txt"
    with Index.open(settings.model_copy(update={"files_root": corpus.parent}), embedder=embedder) as index:
        ingest_paths(index, [corpus])
        index.write([Manifest(embed_model=embedder.name, dim=embedder.dim, schema_version=1)])  # no root
        assert not index.store.retrieve([_MANIFEST_ID])[0].get("files_root")
    with Index.open(settings, embedder=embedder) as index:  # default root would be `elsewhere`
        assert index.files_root == corpus.parent.resolve()
        summary = ingest_paths(index, [corpus])
        assert [o.status for o in summary.outcomes] == ["unchanged"]
    monkeypatch.chdir(elsewhere)
    with Index.open(settings, embedder=embedder) as index:  # recorded now: no longer cwd-dependent
        assert index.files_root == corpus.parent.resolve()


def test_files_whose_records_the_index_lost_are_indexed_again(settings, two_folders, embedder):
    """Damaged storage can drop a file's points and its record alike: the saved file list
    notices, and the next run (given any path) indexes the file again and says so."""
    corpus, uploads = two_folders
    with Index.open(settings, embedder=embedder) as index:
        ingest_paths(index, [corpus, uploads])
        key = index.file_key(uploads / "b.txt")
        index.store.delete([Condition("file", key)])  # points and record gone, as with a truncated id map
        summary = ingest_paths(index, [corpus])
        by_name = {o.file.rsplit("/", 1)[-1]: o for o in summary.outcomes}
        assert by_name["b.txt"].status == "ingested"
        assert "lost this file" in by_name["b.txt"].warnings[0]
        assert _files(index) == {"a.txt", "b.txt"}
        # Lost and gone from disk: named once, then forgotten.
        index.store.delete([Condition("file", key)])
        (uploads / "b.txt").unlink()
        first = ingest_paths(index, [corpus])
        assert [o.status for o in first.outcomes if o.file == key] == ["failed"]
        assert all(o.file != key for o in ingest_paths(index, [corpus]).outcomes)


def test_a_file_whose_chunks_the_index_lost_is_indexed_again_and_the_loss_is_said(settings, two_folders, embedder):
    """Its record survived, some of its chunks did not: the run counts the file's points, finds
    them short and indexes the file again, saying how many of each kind were found."""
    corpus, _ = two_folders
    with Index.open(settings, embedder=embedder) as index:
        first = ingest_paths(index, [corpus])
        (done,) = first.outcomes
        key = done.file
        assert done.chunks >= 1
        index.store.delete([Condition("file", key), Condition("kind", "chunk")])
        summary = ingest_paths(index, [corpus])
        (again,) = summary.outcomes
        assert again.status == "ingested" and again.chunks == done.chunks
        assert (f"the index had lost part of this file ({done.chunks} chunk(s) and {done.documents} document(s) "
                f"recorded, 0 and {done.documents} found)") in again.warnings[0]
        assert [o.status for o in ingest_paths(index, [corpus]).outcomes] == ["unchanged"]
