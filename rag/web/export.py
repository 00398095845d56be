"""An answer as a Word (.docx) document, for pasting into a report.

Built from the stored ``Answer`` (never from the chat's HTML): the question, the answer text with
its [n] markers, and a "Nguồn" list giving each citation's document, section and quoted sentence.
Every string is written as a plain text run, so document text such as ``=cmd`` or ``<script>``
stays literal.
"""

from __future__ import annotations

import io
import re
import tempfile
import time
import unicodedata
import uuid
from pathlib import Path

from rag.models import Answer
from rag.web.render import answer_text, citation_label, plain_quote, understood_line

EXPORT_DIR = Path(tempfile.gettempdir()) / "congvan-exports"
KEEP_S = 3600
"""Exported files older than this are deleted when the next one is written."""
NAME_CHARS = 60

# Characters XML 1.0 cannot hold (python-docx raises on them).
_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(text: str | None) -> str:
    return _XML_BAD.sub("", text or "")


def answer_docx(answer: Answer) -> bytes:
    """The .docx bytes for ``answer``."""
    from docx import Document as WordDocument

    doc = WordDocument()
    doc.core_properties.title = _xml_safe(answer.question)[:200]
    doc.add_heading("Câu trả lời kèm nguồn", level=1)
    p = doc.add_paragraph()
    p.add_run("Câu hỏi: ").bold = True
    p.add_run(_xml_safe(answer.question))
    understood = understood_line(answer)
    if understood:
        doc.add_paragraph().add_run(_xml_safe(understood)).italic = True
    p = doc.add_paragraph()
    p.add_run("Trả lời: ").bold = True
    p.add_run(_xml_safe(answer_text(answer)))
    for note in answer.notes:
        doc.add_paragraph(f"Lưu ý: {_xml_safe(note)}")
    sources = answer.related if answer.abstained else answer.citations
    if sources:
        doc.add_heading("Có thể liên quan" if answer.abstained else "Nguồn", level=2)
        for c in sources:
            p = doc.add_paragraph()
            p.add_run(f"[{c.n}] " if not answer.abstained else "").bold = True
            p.add_run(_xml_safe(citation_label(c)))
            if c.section:
                doc.add_paragraph(f"Mục: {_xml_safe(c.section)}")
            doc.add_paragraph(f"Trích: “{_xml_safe(plain_quote(c.quote))}”")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def docx_filename(question: str) -> str:
    """A safe file name from the question: 'tra-loi-ai-ky-cong-van-3452-ubnd-vx.docx'."""
    text = unicodedata.normalize("NFD", (question or "").replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:NAME_CHARS].strip("-")
    return f"tra-loi-{text}.docx" if text else "tra-loi.docx"


def write_docx(answer: Answer, folder: Path | None = None) -> Path:
    """Write the export of ``answer`` to a fresh sub-folder (the file keeps its readable name)
    and return its path; exports older than ``KEEP_S`` are removed first."""
    folder = Path(folder or EXPORT_DIR)
    _prune(folder)
    target = folder / uuid.uuid4().hex
    target.mkdir(parents=True, exist_ok=True)
    path = target / docx_filename(answer.question)
    path.write_bytes(answer_docx(answer))
    return path


def _prune(folder: Path) -> None:
    if not folder.is_dir():
        return
    cutoff = time.time() - KEEP_S
    for sub in folder.iterdir():
        try:
            if sub.is_dir() and sub.stat().st_mtime < cutoff:
                for f in sub.iterdir():
                    f.unlink()
                sub.rmdir()
        except OSError:
            continue
