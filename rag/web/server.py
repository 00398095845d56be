"""Start-up: open the one shared index, ingest the corpus on first run, then serve the app."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO

from ingest.errors import CongvanError
from ingest.index import Index
from ingest.models import IngestSummary
from ingest.progress import ChunkBar
from ingest.settings import Settings, get_settings
from rag.web.services import Services

log = logging.getLogger(__name__)


def open_services(settings: Settings, *, embedder=None) -> Services:
    """Open the index once for the whole process (the embedded engine allows one process)."""
    return Services(Index.open(settings, embedder=embedder))


def ensure_corpus(services: Services, *, out: TextIO = sys.stderr) -> IngestSummary | None:
    """Ingest the corpus folder until one run of it has completed, with progress on ``out``.

    A run is recorded as complete in the index only after it ends, so a start that was killed
    half-way resumes at the next start (files already indexed are skipped as unchanged). Once
    complete, later starts return at once and the app starts in seconds.
    """
    index = services.index
    if index.state("corpus_ingested"):
        return None
    corpus = Path(services.settings.corpus_dir)
    if not corpus.is_dir():
        if not index.file_records():
            print(f"Kho văn bản trống và không thấy thư mục {corpus}: hãy tải văn bản lên trong ứng dụng "
                  "hoặc chạy `congvan ingest THƯ_MỤC`.", file=out)
        return None
    first = not index.file_records()
    print(f"{'Lần chạy đầu' if first else 'Tiếp tục lần nạp trước bị gián đoạn'}: đang nạp các văn bản trong "
          f"{corpus}/ (chỉ một lần)…", file=out, flush=True)
    summary = _ingest_with_bar(services, [corpus], out)
    index.set_state("corpus_ingested", True)
    return summary


def resume_uploads(services: Services, *, out: TextIO = sys.stderr) -> IngestSummary | None:
    """Index uploads that were stored but never indexed (the app stopped during their ingest).

    A file that still fails is removed from the uploads folder, as a failed upload is, and
    named on ``out``; the others become searchable.
    """
    folder = services.uploads_dir
    if not folder.is_dir():
        return None
    known = services.index.file_records()
    waiting = [p for p in sorted(folder.iterdir())
               if p.is_file() and not p.name.startswith(".") and services.index.file_key(p) not in known]
    if not waiting:
        return None
    print(f"Đang nạp {len(waiting)} tệp tải lên trước đó chưa được nạp xong…", file=out, flush=True)
    summary = _ingest_with_bar(services, waiting, out)
    for outcome in summary.outcomes:
        if outcome.status == "failed":
            services.index.path_of(outcome.file).unlink(missing_ok=True)
    return summary


def _ingest_with_bar(services: Services, paths: list[Path], out: TextIO) -> IngestSummary:
    progress = ChunkBar("Đang nạp", unit="đoạn", file=out)
    try:
        summary = services.ingest(paths, progress=progress)
    finally:
        progress.close()
    for o in summary.outcomes:
        detail = f"{o.documents} văn bản, {o.chunks} đoạn" if o.status in ("ingested", "unchanged") else o.reason
        print(f"  {o.status:>9}  {o.file}  {detail}", file=out)
    print(f"Đã nạp {summary.count('ingested')} tệp ({summary.count('failed')} lỗi) trong {summary.seconds:.1f} s.",
          file=out, flush=True)
    return summary


def auth_of(settings: Settings) -> tuple[str, str] | None:
    """The login pair, or None when both are empty; one without the other is an error."""
    user = settings.auth_user.get_secret_value()
    password = settings.auth_password.get_secret_value()
    if not user and not password:
        return None
    if not user or not password:
        raise CongvanError("set both CONGVAN_AUTH_USER and CONGVAN_AUTH_PASSWORD, or neither (no login).")
    return user, password


def launch(demo, settings: Settings, *, port: int | None = None, block: bool = True, quiet: bool = False):
    """Queue and launch ``demo`` on the configured host/port (127.0.0.1:7860 by default)."""
    from rag.web.auth import make_auth
    from rag.web.i18n import gradio_i18n
    from rag.web.layout import CSS, THEME

    demo.queue(default_concurrency_limit=settings.chat_concurrency)
    return demo.launch(
        server_name=settings.host,
        server_port=settings.port if port is None else port,
        auth=make_auth(settings),  # the same pair, checked in constant time with a delay per failure
        auth_message="Đăng nhập để dùng ứng dụng hỏi đáp văn bản.",
        prevent_thread_lock=not block,
        show_error=False,
        quiet=quiet,
        # Gradio refuses far larger files itself; the upload page explains the real limit in Vietnamese.
        max_file_size=f"{max(1, int(settings.max_file_mb * 2))}mb",
        theme=THEME,
        css=CSS,
        ssr_mode=False,
        footer_links=["api", "settings"],
        i18n=gradio_i18n(),  # Gradio's own strings in Vietnamese
    )


def serve(settings: Settings | None = None) -> None:
    """``python app.py``: open, ingest on first run, serve until interrupted."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = settings or get_settings()
    try:
        auth_of(settings)
        services = open_services(settings)
    except CongvanError as exc:
        print(f"Không khởi động được ứng dụng: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    try:
        ensure_corpus(services)
        resume_uploads(services)
        services.complete_dense_in_background()
        from rag.web.layout import build_app

        demo = build_app(services)
        print(f"Mở trình duyệt tại http://{settings.host}:{settings.port} (Ctrl+C để dừng).", file=sys.stderr,
              flush=True)
        launch(demo, settings, block=True)
    except CongvanError as exc:
        print(f"Không khởi động được ứng dụng: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    finally:
        services.close()
