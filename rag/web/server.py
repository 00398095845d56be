"""Start-up: open the one shared index, ingest the corpus on first run, then serve the app."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO

from ingest.errors import CongvanError
from ingest.index import Index
from ingest.models import IngestSummary
from rag.settings import Settings, get_settings
from rag.web.services import Services

log = logging.getLogger(__name__)


def open_services(settings: Settings, *, embedder=None) -> Services:
    """Open the index once for the whole process (the embedded engine allows one process)."""
    return Services(Index.open(settings, embedder=embedder))


def ensure_corpus(services: Services, *, out: TextIO = sys.stderr) -> IngestSummary | None:
    """On first run (nothing indexed yet) ingest the corpus folder, with progress on ``out``.

    Later runs find file records and return at once, so the app starts in seconds.
    """
    if services.index.file_records():
        return None
    corpus = Path(services.settings.corpus_dir)
    if not corpus.is_dir():
        print(f"Kho văn bản trống và không thấy thư mục {corpus}: hãy tải văn bản lên trong ứng dụng "
              "hoặc chạy `congvan ingest THƯ_MỤC`.", file=out)
        return None
    from tqdm import tqdm

    print(f"Lần chạy đầu: đang nạp các văn bản trong {corpus}/ (chỉ một lần)…", file=out, flush=True)
    bar = None

    def progress(done: int, total: int, current: str) -> None:
        nonlocal bar
        if total == 0:
            return
        if bar is None:
            bar = tqdm(total=total, unit="đoạn", desc="Đang nạp", file=out)
        bar.set_postfix_str(Path(current).name[-40:], refresh=False)
        bar.update(done - bar.n)

    try:
        summary = services.ingest([corpus], progress=progress)
    finally:
        if bar is not None:
            bar.close()
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
    from rag.web.layout import CSS, THEME

    demo.queue(default_concurrency_limit=settings.chat_concurrency)
    return demo.launch(
        server_name=settings.host,
        server_port=settings.port if port is None else port,
        auth=auth_of(settings),
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
        from rag.web.layout import build_app

        demo = build_app(services)
        print(f"Mở trình duyệt tại http://{settings.host}:{settings.port} (Ctrl+C để dừng).", file=sys.stderr,
              flush=True)
        launch(demo, settings, block=True)
    finally:
        services.close()
