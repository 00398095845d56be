"""The upload tab: add documents from the browser, with progress and a reason for each failure.

A file is answerable as soon as it is indexed by keywords (sparse-first); the page says so and
then shows how far its dense (semantic) vectors have got, in the same progress bar."""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from ingest.loaders import SUPPORTED_EXTENSIONS
from rag.web import render
from rag.web.services import Services, UploadResult, UploadSearchable

log = logging.getLogger(__name__)

UPLOAD_WAITERS = 8
"""Upload requests handled at once. Only one ingests (the ingest queue serialises them); the
others wait inside the app, where they can show what they wait for and small files can go
first. Beyond this, Gradio's own queue holds them and shows their position."""


class UploadPage:
    """Disabled pages (``CONGVAN_UPLOADS_ENABLED=false``) show a notice and nothing to click."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.enabled = services.settings.uploads_enabled
        self.build()
        if self.enabled:
            self.register_events()

    def build(self) -> None:
        s = self.services.settings
        if not self.enabled:
            gr.Markdown("Chức năng tải văn bản lên đã được quản trị viên tắt (`CONGVAN_UPLOADS_ENABLED=false`).",
                        elem_id="cv-upload-off")
            return
        scans = ("bản scan được nhận dạng chữ (OCR)" if getattr(s, "ocr_enabled", False)
                 else "PDF phải có lớp chữ")
        gr.Markdown(
            f"Thêm văn bản của cơ quan vào kho: **{', '.join(SUPPORTED_EXTENSIONS)}** ({scans}), "
            f"tối đa **{s.max_file_mb:g} MB** mỗi tệp. Văn bản đã nạp hiện trong *Thư viện văn bản* và được "
            "dùng để trả lời ngay (tìm bằng từ khoá trước, vector ngữ nghĩa được bổ sung ngay sau đó)."
        )
        self.files = gr.File(label="Chọn tệp", file_count="multiple", file_types=list(SUPPORTED_EXTENSIONS),
                             elem_id="cv-upload-files")
        self.submit = gr.Button("Nạp vào kho văn bản", variant="primary", elem_id="cv-upload-submit")
        self.result = gr.HTML("", elem_id="cv-upload-result")

    def register_events(self) -> None:
        self.event = self.submit.click(self.ingest, inputs=[self.files], outputs=[self.result, self.files],
                                       concurrency_limit=UPLOAD_WAITERS, concurrency_id="ingest",
                                       api_visibility="private")

    def ingest(self, files: list | None, progress=gr.Progress()):  # noqa: B008 - how Gradio injects progress
        """Ingest the chosen files one by one, streaming each file's result and, while a file
        waits for another upload to finish, what it waits for."""
        if not files:
            gr.Warning("Hãy chọn ít nhất một tệp để tải lên.", title="Cảnh báo")
            yield gr.skip(), gr.skip()
            return
        paths = [Path(f if isinstance(f, str) else getattr(f, "name", f)) for f in files]
        results: list[UploadResult] = []
        for i, path in enumerate(paths):
            label = f"Đang nạp {path.name} ({i + 1}/{len(paths)})"
            progress(i / len(paths), desc=label)
            stage = {"desc": label}  # switched when the file becomes searchable

            def advance(done: int, total: int, _current: str, stage: dict = stage) -> None:
                if total:
                    progress((done, total), desc=stage["desc"], unit="đoạn")

            try:
                for step in self.services.upload_steps(path, path.name, progress=advance):
                    if isinstance(step, UploadResult):
                        results.append(step)
                    elif isinstance(step, UploadSearchable):  # answerable now; dense vectors follow
                        stage["desc"] = (f"{path.name} ({i + 1}/{len(paths)}): Đã tìm được bằng từ khoá; "
                                         "đang bổ sung vector ngữ nghĩa")
                        progress(i / len(paths), desc=stage["desc"])
                        yield _results_html(results, searchable=step.message), gr.skip()
                    elif step.message:  # waiting for another upload: say for what
                        progress(i / len(paths), desc=f"Đang chờ lượt nạp {path.name} ({i + 1}/{len(paths)})")
                        yield _results_html(results, waiting=step.message), gr.skip()
                    else:  # its turn came
                        progress(i / len(paths), desc=label)
                        yield _results_html(results), gr.skip()
            except Exception:  # one bad file must not stop the others or the app
                log.exception("upload of %s failed", path.name)
                results.append(UploadResult(path.name, False, f"Không nạp được “{path.name}”: lỗi không mong muốn "
                                                              "khi xử lý tệp. Vui lòng thử lại."))
            finally:
                discard_upload_copy(path)
            yield _results_html(results), gr.skip()
        failed = [r for r in results if not r.ok]
        if failed:
            gr.Warning(f"{len(failed)}/{len(results)} tệp không nạp được; xem lý do bên dưới.",
                       title="Cảnh báo")
        else:
            gr.Info(f"Đã nạp xong {len(results)} tệp.", title="Thông báo")
        yield _results_html(results), None


def _results_html(results: list[UploadResult], *, waiting: str = "", searchable: str = "") -> str:
    html = render.upload_results_html([(r.ok, r.message) for r in results])
    if searchable:
        html += f'<p class="cv-upload-searchable">{escape(searchable)}</p>'
    if waiting:
        html += f'<p class="cv-upload-waiting">{escape(waiting)}</p>'
    return html


def discard_upload_copy(path: Path) -> None:
    """Delete Gradio's cached copy of an uploaded file once it is handled (a stored upload was
    copied into the uploads folder; a refused one must not linger in the cache). Only files
    inside Gradio's upload folder are touched, with their now empty per-file folder."""
    try:
        cache = Path(get_upload_folder()).resolve()
        resolved = path.resolve()
        if cache not in resolved.parents:
            return
        resolved.unlink(missing_ok=True)
        parent = resolved.parent
        if parent != cache and not any(parent.iterdir()):
            parent.rmdir()
    except OSError:  # best effort: Gradio's delete_cache removes it later anyway
        log.warning("cannot delete the cached upload %s", path, exc_info=True)
