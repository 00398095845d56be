"""Shared fixtures: one real index of the bundled corpus per test run, and a counting embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest.embeddings import Embedder, load_embedder
from ingest.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEED_FILES = {
    "000": "000_soldtbxh_soc_trang_trien_khai_61-CTr-TU.txt",
    "001": "001_ubnd_kien_giang_2577-UBND-KGVX_ocr.txt",
    "002": "002_ubnd_soc_trang_3452-UBND-VX_kem_61-CTr-TU.txt",
    "003": "003_ubnd_bac_son_ke_hoach_tre_em_2024.txt",
    "004": "004_ubnd_kon_tum_ngay_cong_tac_xa_hoi_2024.txt",
}
"""The five seed documents in corpus/, by their number."""


class CountingEmbedder:
    """The real embedding model, counting how many passages it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.passages = 0

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.passages += len(texts)
        return self._inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._inner.embed_query(text)

    def token_count(self, text: str) -> int:
        return self._inner.token_count(text)


@pytest.fixture(autouse=True)
def _run_from_repo_root(monkeypatch):
    """Some tests and evals name files relative to the repository; run every test from there."""
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder(Settings())


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, embedder):
    """The bundled corpus, ingested once for the whole run into a temporary data dir."""
    from ingest.index import Index
    from ingest.pipeline import ingest_paths

    settings = Settings(data_dir=tmp_path_factory.mktemp("corpus-index"), files_root=ROOT)
    index = Index.open(settings, embedder=embedder)
    summary = ingest_paths(index, [CORPUS])
    assert not summary.failed, summary
    yield index
    index.close()


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings pointing at an empty data dir of the test's own."""
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    """A writable copy of the two shortest seeds, for tests that change files."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("000_soldtbxh_soc_trang_trien_khai_61-CTr-TU.txt", "004_ubnd_kon_tum_ngay_cong_tac_xa_hoi_2024.txt"):
        shutil.copy(CORPUS / name, folder / name)
    return folder
