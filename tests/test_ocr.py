"""OCR of scanned PDFs and images: accuracy, metadata, page citations, word boxes, cache, failures.

The scans in tests/fixtures/scans are made from the seed texts by evals/make_scans.py, which
also records the text drawn on every page (manifest.json): the ground truth here. Each fixture
is OCR'd once per run (session fixture); later tests reuse that OCR through the cache.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pymupdf
import pytest
from PIL import Image

from ingest.errors import LoadError
from ingest.index import Index
from ingest.loaders import load_file
from ingest.metadata import extract_metadata
from ingest.ocr import (
    INSTALL_HINT,
    Ocr,
    OcrUnavailable,
    check_tesseract,
    page_image,
    words_in_span,
)
from ingest.pipeline import ingest_paths
from ingest.rebuild import rebuild_index
from ingest.split import split_documents
from ingest.settings import Settings
from tests.conftest import CORPUS, SEED_FILES

SCANS = Path(__file__).resolve().parent / "fixtures" / "scans"
MANIFEST = json.loads((SCANS / "manifest.json").read_text(encoding="utf-8"))
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
MB = 1 << 20


def _ocr_missing() -> str | None:
    try:
        import rapidfuzz  # noqa: F401
    except ImportError:
        return "rapidfuzz is not installed (pip install rapidfuzz)"
    try:
        check_tesseract("tesseract", "vie")
    except OcrUnavailable as exc:
        return f"Tesseract with Vietnamese data is not installed ({exc.hint}); .ci/run installs it"
    return None


MISSING = _ocr_missing()
needs_tesseract = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


def cer(hypothesis: str, reference: str) -> float:
    from evals.bench_ocr import cer as measure

    return measure(hypothesis, reference)


def _pages(loaded) -> list[str]:
    starts = loaded.page_starts + [len(loaded.text) + 2]
    return [loaded.text[a:b - 2] for a, b in zip(starts, starts[1:])]


@pytest.fixture(scope="session")
def ocr_cache(tmp_path_factory) -> Path:
    """One OCR cache for the run: every fixture is read by Tesseract once."""
    return tmp_path_factory.mktemp("ocr-cache")


@pytest.fixture(scope="session")
def scans(ocr_cache):
    """Every fixture loaded through OCR, by file name."""
    if MISSING:
        pytest.skip(MISSING)
    with Ocr(cache_dir=ocr_cache) as ocr:
        return {name: load_file(SCANS / name, key=f"scans/{name}", max_bytes=25 * MB, ocr=ocr)
                for name in MANIFEST}


def _seeded_settings(tmp_path: Path, ocr_cache: Path, **overrides) -> Settings:
    """Settings of a fresh index whose OCR cache already holds the fixtures' OCR."""
    settings = Settings(data_dir=tmp_path / "data", **overrides)
    shutil.copytree(ocr_cache, settings.data_dir / "ocr-cache")
    return settings


# --------------------------------------------------------------------------- accuracy


@needs_tesseract
@pytest.mark.parametrize(("name", "limit"), [
    ("clean-300dpi.pdf", 0.02),
    ("header-300dpi.png", 0.02),
    ("stamp-300dpi.pdf", 0.02),  # the red seal is dropped with the red channel
    ("degraded-150dpi.pdf", 0.08),
])
def test_character_error_rate_per_page(scans, name, limit):
    # Measured on the reference machine: clean 0.6 %, header 0 %, stamp 0.2 %, degraded 1.3 %.
    loaded = scans[name]
    truth = MANIFEST[name]["pages"]
    assert len(loaded.page_starts) == len(truth)
    for number, (text, reference) in enumerate(zip(_pages(loaded), truth), start=1):
        assert cer(text, reference) < limit, (name, number, text)


@needs_tesseract
def test_ocr_pages_carry_confidence_and_word_boxes(scans):
    loaded = scans["clean-300dpi.pdf"]
    assert [p.page for p in loaded.ocr_pages] == [1, 2]
    assert [p.start for p in loaded.ocr_pages] == loaded.page_starts
    assert loaded.warnings == []
    for info in loaded.ocr_pages:
        assert info.mean_confidence > 80 and not info.low_confidence
        assert info.dpi == 300 and (info.width, info.height) == (2480, 3508)
        assert len(info.words) > 50
        for start, end, x0, y0, x1, y1 in info.words:
            word = loaded.text[info.start + start:info.start + end]
            assert word and not any(ch.isspace() for ch in word)
            assert 0 <= x0 < x1 <= info.width and 0 <= y0 < y1 <= info.height


@needs_tesseract
def test_low_confidence_pages_are_flagged(scans, ocr_cache):
    with Ocr(cache_dir=ocr_cache, low_confidence=99.0) as ocr:
        loaded = load_file(SCANS / "degraded-150dpi.pdf", key="d.pdf", max_bytes=25 * MB, ocr=ocr)
        assert ocr.pages_recognised == 0  # the threshold is applied to cached results
    assert [p.low_confidence for p in loaded.ocr_pages] == [True]
    [warning] = loaded.warnings
    assert warning.startswith("chất lượng quét thấp (low scan quality)") and "page(s) 1 (" in warning


# --------------------------------------------------------------------------- what is read from a scan


@needs_tesseract
def test_metadata_of_the_scan_matches_the_text_version(scans):
    def metadata(text: str):
        spans = split_documents(text)
        return extract_metadata([text[a:b] for a, b in spans])

    [scanned] = metadata(scans["clean-300dpi.pdf"].text)
    [typed] = metadata((CORPUS / SEED_FILES["000"]).read_text(encoding="utf-8"))
    fields = ("number", "issuer", "date", "signer_name", "doc_type")
    assert {f: getattr(scanned, f) for f in fields} == {f: getattr(typed, f) for f in fields}
    assert scanned.number == "/SLĐTBXH-BTXHTEBĐG" and scanned.signer_name == "Trần Thị Hoàng Mỹ"


@needs_tesseract
@pytest.mark.slow
def test_answers_cite_the_page_and_the_words_on_it(scans, tmp_path, ocr_cache, embedder):
    from rag.assistant import Assistant

    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SCANS / "clean-300dpi.pdf", folder / "so-ldtbxh-scan.pdf")
    pages_read: list[int] = []
    with Index.open(_seeded_settings(tmp_path, ocr_cache), embedder=embedder) as index:
        summary = ingest_paths(index, [folder], ocr_progress=lambda done, total, key: pages_read.append(done))
        assert [o.status for o in summary.outcomes] == ["ingested"], summary
        assert pages_read == []  # read from the cache the session fixture filled
        [document] = index.documents()
        assert [p.page for p in document.ocr_pages] == [1, 2]
        assistant = Assistant(index)
        for question, page, quoted in [
            ("Đồng chí Nguyễn Văn Khởi chỉ đạo tại văn bản nào?", 1, "6237/VP-VX"),
            ("Công văn đính kèm văn bản nào?", 2, "3452/UBND-VX"),
        ]:
            answer = assistant.ask(question)
            citation = next(c for c in answer.citations if quoted in c.quote)
            assert citation.page == page, (question, answer.citations)
            boxes = words_in_span(document, citation.start, citation.end)
            assert boxes and {p for p, _box in boxes} == {page}
            for _page, (x0, y0, x1, y1) in boxes:
                assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
            # the boxes are those of the quoted words: as many as the quote has
            assert len(boxes) == len(citation.quote.split())
            # the web app shows that page with those words outlined
            from rag.web.chat_page import _scan

            shown = _scan(document, citation.start, citation.end, index.path_of(document.file))
            assert f"Bản quét, trang {page}" in shown and "data:image/png;base64," in shown
            assert shown.count('class="cv-box"') == len(boxes)


@needs_tesseract
def test_mixed_pdf_is_ocrd_only_where_a_page_has_no_text(tmp_path, ocr_cache):
    header = SCANS / "header-300dpi.png"
    document = pymupdf.open()
    text_page = document.new_page()
    font = {"fontname": "dejavu", "fontfile": str(FONT)} if FONT.exists() else {"fontname": "helv"}
    text_page.insert_text((72, 72), "Trang có lớp chữ" if FONT.exists() else "Trang co lop chu", fontsize=12, **font)
    # Scanned strips of paper, each page the size of its image.
    document.new_page(width=595, height=175).insert_image(pymupdf.Rect(0, 0, 595, 175), filename=str(header))
    # A scan with a scanner's watermark in its text layer: still a scan, and OCR'd.
    stamped = document.new_page(width=595, height=175)
    stamped.insert_image(stamped.rect, filename=str(header))
    stamped.insert_text((420, 170), "Scanned with CamScanner", fontsize=6, fontname="helv")
    path = tmp_path / "mixed.pdf"
    document.save(path)

    with Ocr(cache_dir=ocr_cache) as ocr:
        loaded = load_file(path, key="mixed.pdf", max_bytes=25 * MB, ocr=ocr)
        assert ocr.pages_recognised == 2
    pages = _pages(loaded)
    assert pages[0].startswith("Trang c")
    assert [p.page for p in loaded.ocr_pages] == [2, 3]
    assert cer(pages[1], MANIFEST["header-300dpi.png"]["pages"][0]) < 0.05, pages[1]
    # The watermark is read with the rest of the page, as it is printed on it.
    assert "SỞ LAO ĐỘNG - THƯƠNG BINH" in pages[2] and "CamScanner" in pages[2]
    assert loaded.warnings == []


def _legacy_font_pdf(path: Path) -> Path:
    """A page that prints the header fixture but whose text layer is TCVN3 mojibake, as a PDF typed
    in a .VnTime font extracts: the picture is right, the text is not."""
    from tests.test_loaders import _PARAGRAPH, _tcvn3

    document = pymupdf.open()
    page = document.new_page(width=595, height=175)
    page.insert_image(page.rect, filename=str(SCANS / "header-300dpi.png"))
    # render_mode 3: invisible text, the way a legacy font's codes sit over what it draws
    page.insert_text((20, 20), _tcvn3(_PARAGRAPH), fontname="helv", fontsize=4, render_mode=3)
    document.save(path)
    return path


@needs_tesseract
def test_a_legacy_font_text_layer_is_read_by_ocr(tmp_path, ocr_cache):
    path = _legacy_font_pdf(tmp_path / "legacy.pdf")
    with Ocr(cache_dir=ocr_cache) as ocr:
        loaded = load_file(path, key="legacy.pdf", max_bytes=25 * MB, ocr=ocr)
        assert ocr.pages_recognised == 1
    assert "SỞ LAO ĐỘNG - THƯƠNG BINH" in loaded.text and "«" not in loaded.text
    assert [p.page for p in loaded.ocr_pages] == [1]
    assert loaded.warnings == ["page(s) 1 have a text layer in a legacy Vietnamese font encoding (TCVN3/VNI) "
                               "that extracts as garbage; they were read by OCR instead"]


def test_a_legacy_font_text_layer_without_tesseract_is_refused_with_the_install_hint(tmp_path):
    path = _legacy_font_pdf(tmp_path / "legacy.pdf")
    with Ocr(cache_dir=tmp_path / "cache", tesseract_cmd=str(tmp_path / "none")) as ocr, \
            pytest.raises(LoadError) as info:
        load_file(path, key="legacy.pdf", max_bytes=25 * MB, ocr=ocr)
    assert info.value.reason == ("PDF has a text layer in a legacy Vietnamese font encoding (TCVN3/VNI) that extracts "
                                 f"as garbage: it {MISSING_TESSERACT}")


@needs_tesseract
def test_multi_page_tiff_is_one_page_per_frame(tmp_path, ocr_cache):
    with Image.open(SCANS / "header-300dpi.png") as image:
        frame = image.convert("L")
    path = tmp_path / "two.tiff"
    frame.save(path, save_all=True, append_images=[frame.rotate(180)], dpi=(300, 300))
    with Ocr(cache_dir=ocr_cache) as ocr:
        loaded = load_file(path, key="two.tiff", max_bytes=25 * MB, ocr=ocr)
    assert loaded.kind == "tiff" and len(loaded.page_starts) == 2
    assert "SÓC TRĂNG" in _pages(loaded)[0]
    assert [p.page for p in loaded.ocr_pages] == [1, 2]


@needs_tesseract
def test_page_image_is_rendered_on_demand():
    assert page_image(SCANS / "clean-300dpi.pdf", 2, dpi=36).size == (298, 421)
    assert page_image(SCANS / "header-300dpi.png", 1).mode == "RGB"


# --------------------------------------------------------------------------- cache


@needs_tesseract
@pytest.mark.slow
def test_reingest_never_runs_ocr_again(tmp_path, embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SCANS / "header-300dpi.png", folder / "header.png")
    settings = Settings(data_dir=tmp_path / "data", ocr_low_confidence=99.0)
    pages_read: list[int] = []

    def count(done: int, total: int, key: str) -> None:
        pages_read.append(done)

    with Index.open(settings, embedder=embedder) as index:
        first = ingest_paths(index, [folder], ocr_progress=count)
        assert [o.status for o in first.outcomes] == ["ingested"] and pages_read == [1]
        assert "chất lượng quét thấp" in first.outcomes[0].warnings[0]
        again = ingest_paths(index, [folder], ocr_progress=count)
        assert [o.status for o in again.outcomes] == ["unchanged"] and pages_read == [1]
        assert again.outcomes[0].warnings == first.outcomes[0].warnings
    # A rebuilt index (the cache lives beside it) is still not re-OCR'd.
    summary = rebuild_index(settings, [], embedder=embedder, ocr_progress=count)
    assert [o.status for o in summary.outcomes] == ["ingested"]
    assert pages_read == [1]
    assert len(list((settings.data_dir / "ocr-cache").glob("*.json"))) == 1


@needs_tesseract
def test_cache_is_redone_when_the_dpi_or_language_changes(tmp_path):
    path = SCANS / "header-300dpi.png"
    for dpi, language, expected in [(300, "vie", 1), (300, "vie", 0), (200, "vie", 1), (200, "vie+eng", 1)]:
        with Ocr(cache_dir=tmp_path, dpi=dpi, language=language) as ocr:
            load_file(path, key="h.png", max_bytes=25 * MB, ocr=ocr)
            assert ocr.pages_recognised == expected, (dpi, language)


# --------------------------------------------------------------------------- without Tesseract


MISSING_TESSERACT = f"needs OCR: {INSTALL_HINT}"


def test_missing_tesseract_fails_the_scan_with_an_install_hint(tmp_path, embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SCANS / "header-300dpi.png", folder / "header.png")
    shutil.copy(SCANS / "degraded-150dpi.pdf", folder / "scan.pdf")
    shutil.copy(CORPUS / SEED_FILES["004"], folder / "typed.txt")
    settings = Settings(data_dir=tmp_path / "data", ocr_tesseract_cmd=str(tmp_path / "no-such-tesseract"))
    with Index.open(settings, embedder=embedder) as index:
        summary = ingest_paths(index, [folder])
    outcomes = {Path(o.file).name: o for o in summary.outcomes}
    assert outcomes["typed.txt"].status == "ingested"
    assert outcomes["header.png"].status == "failed"
    assert outcomes["header.png"].reason == f"scanned image: it {MISSING_TESSERACT}"
    assert outcomes["scan.pdf"].reason == f"PDF has no text layer (scanned image): it {MISSING_TESSERACT}"
    assert "apt-get install tesseract-ocr tesseract-ocr-vie" in INSTALL_HINT


def test_missing_tesseract_keeps_the_text_pages_of_a_mixed_pdf(tmp_path):
    document = pymupdf.open()
    document.new_page().insert_text((72, 72), "Trang 1", fontname="helv", fontsize=12)
    document.new_page().insert_image(pymupdf.Rect(0, 0, 595, 175), filename=str(SCANS / "header-300dpi.png"))
    path = tmp_path / "mixed.pdf"
    document.save(path)
    with Ocr(cache_dir=tmp_path / "cache", tesseract_cmd=str(tmp_path / "none")) as ocr:
        loaded = load_file(path, key="mixed.pdf", max_bytes=25 * MB, ocr=ocr)
    assert loaded.text == "Trang 1\n\n" and loaded.ocr_pages is None
    assert loaded.warnings == [f"page(s) 2 have no text layer and were not read: {MISSING_TESSERACT}"]


def test_without_ocr_scans_are_refused_as_before(tmp_path):
    with pytest.raises(LoadError, match=r"^.*: scanned image: it needs OCR$"):
        load_file(SCANS / "header-300dpi.png", key="h.png", max_bytes=25 * MB)
    with pytest.raises(LoadError) as info:
        load_file(SCANS / "clean-300dpi.pdf", key="c.pdf", max_bytes=25 * MB)
    assert info.value.reason == "PDF has no text layer (scanned image): it needs OCR"


@needs_tesseract
def test_missing_language_data_names_the_package():
    with pytest.raises(OcrUnavailable, match=r"no 'xyz' language data: install it with `apt-get install tesseract-ocr-xyz`"):
        check_tesseract("tesseract", "vie+xyz")


@needs_tesseract
def test_unreadable_image_is_refused(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes((SCANS / "header-300dpi.png").read_bytes()[:300])
    with Ocr(cache_dir=None) as ocr, pytest.raises(LoadError) as info:
        load_file(path, key="broken.png", max_bytes=25 * MB, ocr=ocr)
    assert info.value.reason.startswith(("corrupt or truncated image (", "corrupt or unreadable image ("))
    (tmp_path / "text.jpg").write_text("not an image", encoding="utf-8")
    with Ocr(cache_dir=None) as ocr, pytest.raises(LoadError, match="corrupt or unreadable image"):
        load_file(tmp_path / "text.jpg", key="text.jpg", max_bytes=25 * MB, ocr=ocr)
