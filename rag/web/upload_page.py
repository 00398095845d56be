"""The upload tab: add documents from the browser, with progress and a reason for each failure."""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

from ingest.loaders import SUPPORTED_EXTENSIONS
from rag.web import render
from rag.web.services import Services, UploadResult

log = logging.getLogger(__name__)


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
            "dùng để trả lời ngay."
        )
        self.files = gr.File(label="Chọn tệp", file_count="multiple", file_types=list(SUPPORTED_EXTENSIONS),
                             elem_id="cv-upload-files")
        self.submit = gr.Button("Nạp vào kho văn bản", variant="primary", elem_id="cv-upload-submit")
        self.result = gr.HTML("", elem_id="cv-upload-result")

    def register_events(self) -> None:
        # One ingestion at a time across all sessions (the services also hold a lock).
        self.event = self.submit.click(self.ingest, inputs=[self.files], outputs=[self.result, self.files],
                                       concurrency_limit=1, concurrency_id="ingest", api_visibility="private")

    def ingest(self, files: list | None, progress=gr.Progress()):  # noqa: B008 - how Gradio injects progress
        if not files:
            gr.Warning("Hãy chọn ít nhất một tệp để tải lên.", title="Cảnh báo")
            return gr.skip(), gr.skip()
        paths = [Path(f if isinstance(f, str) else getattr(f, "name", f)) for f in files]
        results: list[UploadResult] = []
        for i, path in enumerate(paths):
            label = f"Đang nạp {path.name} ({i + 1}/{len(paths)})"
            progress(i / len(paths), desc=label)

            def advance(done: int, total: int, _current: str, label: str = label) -> None:
                if total:
                    progress((done, total), desc=label, unit="đoạn")

            try:
                results.append(self.services.add_upload(path, path.name, progress=advance))
            except Exception:  # one bad file must not stop the others or the app
                log.exception("upload of %s failed", path.name)
                results.append(UploadResult(path.name, False, f"Không nạp được “{path.name}”: lỗi không mong muốn "
                                                              "khi xử lý tệp. Vui lòng thử lại."))
        failed = [r for r in results if not r.ok]
        if failed:
            gr.Warning(f"{len(failed)}/{len(results)} tệp không nạp được; xem lý do bên dưới.",
                       title="Cảnh báo")
        else:
            gr.Info(f"Đã nạp xong {len(results)} tệp.", title="Thông báo")
        return render.upload_results_html([(r.ok, r.message) for r in results]), None
