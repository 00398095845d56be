"""OCR of scanned pages with Tesseract: words, confidences and boxes, in parallel, cached by file hash.

Decisions worth knowing (figures from ``evals/bench_ocr.py`` on a shared 2-core machine):

* **pytesseract, not ocrmypdf.** ``pytesseract.image_to_data`` hands back every word with its
  confidence and box, which is what quality flags and highlighted citations need; ocrmypdf
  writes a new PDF with a hidden text layer, from which the confidences are gone and the words
  must be re-extracted, and it needs pikepdf and (for its default PDF/A output) Ghostscript.
  Pages are rendered by MuPDF (already used for text PDFs), so nothing else is needed.
* **Parallel pages, one thread each.** Tesseract's own OpenMP threads make it *slower* on 2
  cores (its workers spin while waiting): 15 pages a minute, against 66 with one thread and
  126 with two pages at a time (300 dpi A4, idle 2-core machine). So every Tesseract process
  runs with ``OMP_THREAD_LIMIT=1`` and ``ocr_workers`` pages (default: the CPU count) are read
  at once. Each page is a Tesseract process already, so a thread pool that waits on them runs the
  pages in parallel as a process pool would, without its start-up cost or its demands on the
  caller (a ``spawn`` pool re-imports the caller's main script; ``fork`` is unsafe beside
  Qdrant's and the embedder's threads). The thread limit is set in the environment of the
  Tesseract processes only, never in the ingesting process, whose own libraries keep their
  threads. Pages are rendered on the calling thread (MuPDF is not thread-safe), a couple
  ahead of the workers so a long scan never sits in memory at once.
* **Red seals removed.** Colour pages are read through their red channel: a red seal (con dấu)
  stamped over the signature block turns white there while black and blue ink stays dark.
  On the stamped fixture this took the character error rate from 12.3 % (grey) to 0.2 %.
* **Local thresholding for poor pages.** Tesseract binarises with a global Otsu threshold,
  which fails on grey, shaded or noisy paper (a photocopy, a phone photo): on the degraded
  fixture it gave 5.1 % character errors, and 22-99 % on harsher variants (one page took
  87 s). Sauvola's local threshold (``thresholding_method=2``) read the same pages at
  1.0-1.6 % (14 % on the worst) but costs ~1 s more per clean page for no gain, so it is used
  only when the paper is not clean white: median brightness under 235 or noise above 8 grey
  levels.
* **Cache.** Results are kept per file in ``<data_dir>/ocr-cache/<sha256>.json`` (language and
  dpi recorded; a change of either re-reads the pages), so re-ingesting an unchanged or
  re-indexed file never runs Tesseract again. Delete the folder to force a fresh OCR.
* **Page images are not kept.** A 300 dpi page is 0.1-7 MB as PNG (noisy grey scans are the
  big ones) and MuPDF renders one again from the source file in 0.05-0.25 s, so
  ``page_image`` renders on demand; only the word boxes are stored with the document, about
  36 bytes of JSON a word (8 KB for a full A4 page).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.text.normalize import display_text

if TYPE_CHECKING:
    from PIL import Image

    from ingest.models import Document, OcrPageInfo
    from ingest.settings import Settings

log = logging.getLogger(__name__)

INSTALL_HINT = "install Tesseract with `apt-get install tesseract-ocr tesseract-ocr-vie`"
CACHE_VERSION = 1
PAGE_TIMEOUT_S = 300
"""A page Tesseract has not read in this many seconds is given up (a pathological image)."""

Word = tuple[str, float, int, int, int, int]
"""(text, confidence 0-100, x0, y0, x1, y1): a recognised word and its box in image pixels."""

OcrProgress = Callable[[int, int, str], None]
"""Called as ``progress(pages_done, pages_total, file_key)`` after each page is recognised."""


class OcrUnavailable(Exception):
    """Tesseract, its language data or pytesseract is missing; ``hint`` says how to install it."""

    def __init__(self, hint: str) -> None:
        super().__init__(hint)
        self.hint = hint


class OcrFailed(Exception):
    """Tesseract ran but could not read a page (crash, timeout, unreadable image)."""


@dataclass
class OcrPage:
    """One recognised page: its text, how sure Tesseract was, and where every word is."""

    text: str = field(metadata={"doc": "Words joined by spaces, lines by \\n, paragraphs by a blank line (NFC)."})
    mean_confidence: float | None = field(metadata={"doc": "Mean word confidence 0-100; None without words."})
    words: list[Word] = field(default_factory=list)
    starts: list[int] = field(default_factory=list, metadata={"doc": "Offset of each word in ``text``."})
    width: int = 0
    height: int = 0
    dpi: int | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> OcrPage:
        data = dict(data)
        data["words"] = [tuple(w) for w in data.get("words", [])]
        return cls(**data)


# --------------------------------------------------------------------------- one page


def ocr_page(
    image: Image.Image | str | Path,
    *,
    language: str = "vie",
    tesseract_cmd: str = "tesseract",
    dpi: int | None = None,
    timeout: float = PAGE_TIMEOUT_S,
) -> OcrPage:
    """Recognise one page image (a PIL image or an image file), waiting for Tesseract.

    Colour images are read through their red channel (see the module docstring). ``dpi`` is
    the resolution, by default the one the image states; without either Tesseract estimates it.
    Raises ``OcrUnavailable`` or ``OcrFailed``.
    """
    from PIL import Image

    if not isinstance(image, Image.Image):
        with Image.open(image) as opened:
            image = opened.copy()
    prepared = prepare_image(image)
    if prepared is image:
        prepared = image.copy()  # _recognise sets the copy's format; the caller's image is left alone
    return _recognise(prepared, language=language, tesseract_cmd=tesseract_cmd, dpi=dpi or _stated_dpi(image),
                      timeout=timeout)


def prepare_image(image: Image.Image) -> Image.Image:
    """The single greyscale channel Tesseract reads: grey as is, colour through its red channel."""
    mode = image.mode
    if mode == "L":
        return image
    if mode in ("1", "I;16", "I;16B", "I;16L", "I", "F"):
        return image.convert("L") if mode == "1" else image.point(lambda v: v / 256).convert("L")
    if mode == "LA":
        return _on_white(image).convert("L")
    if mode in ("RGBA", "PA") or (mode == "P" and "transparency" in image.info):
        image = _on_white(image.convert("RGBA"))
    return image.convert("RGB").getchannel("R")


def _on_white(image: Image.Image) -> Image.Image:
    from PIL import Image

    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _recognise(image: Image.Image, *, language: str, tesseract_cmd: str, dpi: int | None,
               timeout: float) -> OcrPage:
    try:
        import pytesseract
    except ImportError:  # pragma: no cover - a dependency of the project
        raise OcrUnavailable("install pytesseract (`pip install pytesseract`)") from None

    pytesseract.pytesseract.tesseract_cmd = tesseract_cmd
    # pytesseract starts Tesseract with the environment it finds in its module's ``environ``.
    pytesseract.pytesseract.environ = _TESSERACT_ENV
    config = f"--dpi {dpi}" if dpi else ""
    if not clean_paper(image):
        config += " -c thresholding_method=2"  # Sauvola: see the module docstring
    # BMP: pytesseract hands the image over as a temporary file; BMP needs no compression
    # and saves ~0.3 s a page against PNG.
    image.format = "BMP"
    try:
        data = pytesseract.image_to_data(
            image, lang=language, config=config, timeout=timeout, output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractNotFoundError:
        raise OcrUnavailable(INSTALL_HINT) from None
    except pytesseract.TesseractError as exc:
        raise OcrFailed(f"Tesseract failed: {str(exc.message).strip()[:200]}") from None
    except RuntimeError as exc:  # pytesseract's timeout
        raise OcrFailed(f"Tesseract gave up: {exc}") from None
    return page_from_data(data, width=image.width, height=image.height, dpi=dpi)


# Paper this bright and this even is binarised well by Tesseract's default (global Otsu).
_CLEAN_PAPER_MEDIAN = 235
_CLEAN_PAPER_NOISE = 8.0


def clean_paper(image: Image.Image) -> bool:
    """True for a page of even, white paper; False for grey, shaded or noisy paper.

    Judged on every 4th pixel of the greyscale page: text covers a small share of a page, so
    the median is the paper's brightness and the interquartile range its unevenness.
    """
    import numpy as np

    pixels = np.asarray(image)[::4, ::4]
    if pixels.size == 0:
        return True
    q25, median, q75 = np.percentile(pixels, [25, 50, 75])
    return bool(median >= _CLEAN_PAPER_MEDIAN and (q75 - q25) / 1.35 <= _CLEAN_PAPER_NOISE)


class _TesseractEnvironment(Mapping[str, str]):
    """This process's environment, live, with Tesseract's OpenMP threads limited to one."""

    def _merged(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("OMP_THREAD_LIMIT", "1")
        return env

    def __getitem__(self, name: str) -> str:
        return self._merged()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._merged())

    def __len__(self) -> int:
        return len(self._merged())

    def items(self):  # one snapshot for Popen, not one per variable
        return self._merged().items()


_TESSERACT_ENV = _TesseractEnvironment()


def page_from_data(data: dict[str, list], *, width: int, height: int, dpi: int | None) -> OcrPage:
    """Lay out ``image_to_data``'s words as text: lines end in ``\\n``, paragraphs in a blank line.

    Each word is composed to NFC on its own (a space is a composition boundary), so the word
    offsets index the text exactly as ``ingest.text.normalize.display_text`` would leave it.
    """
    parts: list[str] = []
    words: list[Word] = []
    starts: list[int] = []
    position = 0
    previous: tuple[int, int, int] | None = None
    for i, level in enumerate(data["level"]):
        if int(level) != 5:
            continue
        text = display_text(str(data["text"][i])).strip()
        if not text:
            continue
        where = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        if previous is not None:
            separator = " " if where == previous else "\n" if where[:2] == previous[:2] else "\n\n"
            parts.append(separator)
            position += len(separator)
        left, top = int(data["left"][i]), int(data["top"][i])
        confidence = max(0.0, float(data["conf"][i]))
        starts.append(position)
        words.append((text, round(confidence, 1), left, top, left + int(data["width"][i]), top + int(data["height"][i])))
        parts.append(text)
        position += len(text)
        previous = where
    mean = round(sum(w[1] for w in words) / len(words), 1) if words else None
    return OcrPage(text="".join(parts), mean_confidence=mean, words=words, starts=starts,
                   width=width, height=height, dpi=dpi)


# --------------------------------------------------------------------------- availability


_available: set[tuple[str, str]] = set()


def check_tesseract(tesseract_cmd: str = "tesseract", language: str = "vie") -> None:
    """Raise ``OcrUnavailable`` unless Tesseract runs and has every language of ``language``.

    Successes are remembered for the process; a failure is checked again next time, so a
    Tesseract installed while the web app runs is picked up.
    """
    if (tesseract_cmd, language) in _available:
        return
    try:
        import pytesseract  # noqa: F401
    except ImportError:  # pragma: no cover
        raise OcrUnavailable("install pytesseract (`pip install pytesseract`)") from None
    if shutil.which(tesseract_cmd) is None:
        raise OcrUnavailable(INSTALL_HINT)
    try:
        listed = subprocess.run([tesseract_cmd, "--list-langs"], capture_output=True, text=True, timeout=30,
                                check=False)
    except (OSError, subprocess.SubprocessError):
        raise OcrUnavailable(INSTALL_HINT) from None
    have = {line.strip() for line in (listed.stdout + listed.stderr).splitlines()[1:]}
    missing = [lang for lang in language.split("+") if lang not in have]
    if missing:
        packages = " ".join(f"tesseract-ocr-{lang.lower()}" for lang in missing)
        raise OcrUnavailable(
            f"Tesseract has no {', '.join(repr(m) for m in missing)} language data: "
            f"install it with `apt-get install {packages}`")
    _available.add((tesseract_cmd, language))


# --------------------------------------------------------------------------- many pages


PageJob = tuple[int, Callable[[], "Image.Image"]]
"""(0-based page index, a function rendering that page) for ``Ocr.recognise``."""


class Ocr:
    """OCR for an ingest run: the options, a lazily started worker pool and the result cache.

    Use as a context manager or call ``close()``; the pool is started on the first page that
    is not cached, so a run without scans costs nothing.
    """

    def __init__(
        self,
        *,
        cache_dir: Path | None,
        language: str = "vie",
        dpi: int = 300,
        low_confidence: float = 60.0,
        workers: int | None = None,
        tesseract_cmd: str = "tesseract",
        progress: OcrProgress | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self.language = language
        self.dpi = dpi
        self.low_confidence = low_confidence
        self.workers = max(1, workers or _cpu_count())
        self.tesseract_cmd = tesseract_cmd
        self.progress = progress
        self.pages_recognised = 0
        """Pages Tesseract has read through this object (cache hits not counted)."""
        self._pool: ThreadPoolExecutor | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, progress: OcrProgress | None = None) -> Ocr:
        return cls(
            cache_dir=Path(settings.data_dir) / "ocr-cache",
            language=settings.ocr_language,
            dpi=settings.ocr_dpi,
            low_confidence=settings.ocr_low_confidence,
            workers=settings.ocr_workers,
            tesseract_cmd=settings.ocr_tesseract_cmd,
            progress=progress,
        )

    def __enter__(self) -> Ocr:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    # ----------------------------------------------------------------- recognise

    def recognise(self, key: str, sha256: str, jobs: list[PageJob]) -> dict[int, OcrPage]:
        """OCR the pages of one file (identified by its hash), from the cache where possible.

        A job's image states its resolution in ``image.info["dpi"]`` when known (Tesseract
        estimates it otherwise). Raises ``OcrUnavailable`` when pages need Tesseract and it is
        missing, ``OcrFailed`` when a page cannot be read; exceptions of a render pass through.
        """
        cached = self._cache_read(sha256)
        results = {index: cached[index] for index, _render in jobs if index in cached}
        todo = [(index, render) for index, render in jobs if index not in results]
        if not todo:
            if jobs:
                log.info("%s: OCR of %d page(s) taken from the cache", key, len(jobs))
            return results
        check_tesseract(self.tesseract_cmd, self.language)
        try:
            self._run(key, sha256, todo, results, cached)
        finally:
            if any(index not in cached for index in results):
                self._cache_write(sha256, {**cached, **results})
        return results

    def _run(self, key: str, sha256: str, todo: list[PageJob], results: dict[int, OcrPage],
             cached: dict[int, OcrPage]) -> None:
        pool = self._ensure_pool()
        pending: dict[Future, int] = {}
        queue = iter(todo)
        total, done = len(todo), 0
        try:
            while True:
                # Render lazily, a couple of pages ahead of the workers: a 300 dpi page is
                # 9 MB of pixels, and a long scan must not sit in memory all at once.
                while len(pending) < 2 * self.workers:
                    job = next(queue, None)
                    if job is None:
                        break
                    index, render = job
                    rendered = render()
                    future = pool.submit(_recognise, prepare_image(rendered), language=self.language,
                                         tesseract_cmd=self.tesseract_cmd, dpi=_stated_dpi(rendered),
                                         timeout=PAGE_TIMEOUT_S)
                    del rendered
                    pending[future] = index
                if not pending:
                    return
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = pending.pop(future)
                    try:
                        results[index] = future.result()
                    except OcrFailed as exc:
                        raise OcrFailed(f"page {index + 1}: {exc}") from None
                    done += 1
                    self.pages_recognised += 1
                    log.info("%s: OCR page %d (%d of %d)", key, index + 1, done, total)
                    if self.progress:
                        self.progress(done, total, key)
                    if done % 8 == 0:  # a long scan interrupted keeps what was read
                        self._cache_write(sha256, {**cached, **results})
        finally:
            for future in pending:
                future.cancel()

    def _ensure_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="ocr")
        return self._pool

    # ----------------------------------------------------------------- cache

    def _cache_path(self, sha256: str) -> Path | None:
        return self.cache_dir / f"{sha256}.json" if self.cache_dir is not None else None

    def _cache_read(self, sha256: str) -> dict[int, OcrPage]:
        path = self._cache_path(sha256)
        if path is None or not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if (data.get("version"), data.get("language"), data.get("dpi")) != (CACHE_VERSION, self.language, self.dpi):
                return {}
            return {int(index): OcrPage.from_json(page) for index, page in data["pages"].items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable OCR cache %s (%s)", path, exc)
            return {}

    def _cache_write(self, sha256: str, pages: dict[int, OcrPage]) -> None:
        path = self._cache_path(sha256)
        if path is None:
            return
        data = {"version": CACHE_VERSION, "language": self.language, "dpi": self.dpi,
                "pages": {str(i): pages[i].to_json() for i in sorted(pages)}}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".tmp",
                                             delete=False) as handle:
                json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))
            os.replace(handle.name, path)
        except OSError as exc:  # a read-only data dir costs a re-OCR next time, nothing more
            log.warning("could not write the OCR cache %s (%s)", path, exc)

    # ----------------------------------------------------------------- stored form

    def page_info(self, number: int, start: int, page: OcrPage) -> OcrPageInfo:
        """What a document keeps of an OCR'd page: quality and compact word boxes."""
        from ingest.models import OcrPageInfo

        return OcrPageInfo(
            page=number,
            start=start,
            mean_confidence=page.mean_confidence,
            low_confidence=page.mean_confidence is not None and page.mean_confidence < self.low_confidence,
            width=page.width,
            height=page.height,
            dpi=page.dpi,
            words=[[s, s + len(w[0]), w[2], w[3], w[4], w[5]] for s, w in zip(page.starts, page.words)],
        )


def low_quality_warning(pages: Iterable[OcrPageInfo], threshold: float) -> str | None:
    """The ingest-summary warning for pages read with low confidence, or None."""
    low = [p for p in pages if p.low_confidence]
    if not low:
        return None
    listed = ", ".join(f"{p.page} ({p.mean_confidence:.0f})" for p in low)
    return (f"chất lượng quét thấp (low scan quality): mean OCR confidence under {threshold:.0f} "
            f"on page(s) {listed}; check the text or rescan at 300 dpi")


def _stated_dpi(image: Image.Image) -> int | None:
    try:
        dpi = round(float(image.info["dpi"][0]))
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return dpi if dpi > 0 else None


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# --------------------------------------------------------------------------- for a UI


Box = tuple[float, float, float, float]
"""(x0, y0, x1, y1) as fractions of the page's width and height: resolution-independent."""


def words_in_span(doc: Document, start: int, end: int) -> list[tuple[int, Box]]:
    """(1-based page, box) of every OCR'd word that overlaps ``doc.text[start:end]``.

    Boxes are fractions of the page, so a UI can draw them over the page image at any size
    (``page_image`` renders it). Text pages and text documents have no boxes: ``[]``.
    """
    found: list[tuple[int, Box]] = []
    for info in doc.ocr_pages or []:
        if not info.width or not info.height:
            continue
        for w_start, w_end, x0, y0, x1, y1 in info.words:
            if info.start + w_start < end and info.start + w_end > start:
                found.append((info.page, (round(x0 / info.width, 5), round(y0 / info.height, 5),
                                          round(x1 / info.width, 5), round(y1 / info.height, 5))))
    return found


def page_image(path: str | Path, page: int, *, dpi: int = 150) -> Image.Image:
    """Page ``page`` (1-based) of a PDF or image file as an RGB image, rendered on demand."""
    from PIL import Image, ImageOps

    path = Path(path)
    if path.suffix.lower() == ".pdf":
        import pymupdf

        with pymupdf.open(path) as document:
            pixmap = document[page - 1].get_pixmap(dpi=dpi)
            return Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
    with Image.open(path) as image:
        image.seek(page - 1)
        frame = ImageOps.exif_transpose(image) or image
        return frame.convert("RGB")
