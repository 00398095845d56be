"""The evaluation tab: upload a test set, run it through the shared assistant, read and download the report."""

from __future__ import annotations

import html
import logging
import tempfile
from pathlib import Path

import gradio as gr

from evals.format import EvalInputError, LoadResult, RowError, load_items
from evals.report import format_metric, reason_vi, render_html
from evals.runner import EvalResult, QuestionRecord, run_eval
from rag.web.services import Services

log = logging.getLogger(__name__)

EVAL_EXTENSIONS = (".jsonl", ".csv")

# (metric key, Vietnamese label, is a latency in ms)
METRICS: list[tuple[str, str, bool]] = [
    ("hit@1", "hit@1 (đoạn đúng đứng đầu)", False),
    ("hit@5", "hit@5 (đoạn đúng trong 5 đoạn đầu)", False),
    ("mrr@10", "MRR@10", False),
    ("fact_recall", "Tỉ lệ dữ kiện có trong câu trả lời (fact recall)", False),
    ("citation_precision", "Tỉ lệ trích dẫn đúng (citation precision)", False),
    ("abstention_accuracy", "Từ chối đúng câu ngoài văn bản (abstention accuracy)", False),
    ("latency_p50_ms", "Thời gian trả lời p50 (ms)", True),
    ("latency_p95_ms", "Thời gian trả lời p95 (ms)", True),
]
TAG_COLUMNS: list[tuple[str, str]] = [
    ("hit@5", "hit@5"), ("mrr@10", "MRR@10"), ("fact_recall", "Dữ kiện"),
    ("citation_precision", "Trích dẫn đúng"), ("abstention_accuracy", "Từ chối đúng"),
]



class EvalPage:
    """One run at a time across sessions; results stay in the page and in a downloadable report."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.max_mb = float(services.settings.max_file_mb)
        self.build()
        self.register_events()

    def build(self) -> None:
        gr.Markdown(
            "Chấm chất lượng hỏi đáp trên kho văn bản hiện tại: tải lên bộ câu hỏi mẫu **.jsonl** hoặc **.csv** "
            f"(tối đa **{self.max_mb:g} MB**; mỗi dòng gồm `question`, `facts`, `sources`, `answerable`, `tags`, "
            "xem `evals/README.md`). Mỗi câu được hỏi như trong tab *Hỏi đáp*; dòng lỗi được bỏ qua và liệt kê "
            "kèm số dòng."
        )
        self.file = gr.File(label="Bộ câu hỏi (.jsonl, .csv)", file_count="single", file_types=list(EVAL_EXTENSIONS),
                            elem_id="cv-eval-file")
        self.submit = gr.Button("Chạy đánh giá", variant="primary", elem_id="cv-eval-run")
        self.status = gr.HTML("", elem_id="cv-eval-status")
        self.metrics = gr.HTML("", elem_id="cv-eval-metrics")
        self.tags = gr.HTML("", elem_id="cv-eval-tags")
        self.failures = gr.HTML("", elem_id="cv-eval-failures")
        self.download = gr.File(label="Tải báo cáo (HTML, JSON)", file_count="multiple", interactive=False,
                                elem_id="cv-eval-download")

    def register_events(self) -> None:
        self.event = self.submit.click(
            self.run, inputs=[self.file], outputs=[self.status, self.metrics, self.tags, self.failures, self.download],
            concurrency_limit=1, concurrency_id="eval", api_visibility="private",
        )

    def run(self, file, progress=gr.Progress()):  # noqa: B008 - how Gradio injects progress
        empty = ("", "", "", None)
        if not file:
            gr.Warning("Hãy chọn tệp bộ câu hỏi (.jsonl hoặc .csv).", title="Cảnh báo")
            return (_error_html("Chưa chọn tệp bộ câu hỏi."), *empty)
        path = Path(file if isinstance(file, str) else getattr(file, "name", file))
        try:
            loaded = read_test_set(path, max_mb=self.max_mb)
        except TestSetRejected as exc:
            gr.Warning(str(exc), title="Cảnh báo")
            return (_error_html(str(exc)), *empty)
        bad = row_errors_html(loaded.errors)
        if not loaded.items:
            message = "Không có câu hỏi hợp lệ nào trong tệp."
            gr.Warning(message, title="Cảnh báo")
            return (_error_html(message) + bad, *empty)

        total = len(loaded.items)
        progress(0, desc=f"Đang chạy {total} câu hỏi…")

        def advance(done: int, count: int, record: QuestionRecord) -> None:
            progress((done, count), desc=f"Câu {done}/{count}: {record.id}", unit="câu")

        try:
            result = run_eval(self.services.assistant, loaded.items, config_label=f"web: {path.name}",
                              test_set=path.name, input_errors=[f"dòng {e.line}: {e.message}" for e in loaded.errors],
                              progress=advance)
            files = save_report(result)
        except Exception:  # the app must survive whatever the run hits
            log.exception("evaluation of %s failed", path.name)
            message = "Đánh giá bị lỗi không mong muốn. Vui lòng thử lại."
            gr.Warning(message, title="Cảnh báo")
            return (_error_html(message) + bad, *empty)
        failed = len(result.failures)
        summary = (f'<p class="cv-eval-summary">Đã chạy <b>{total}</b> câu hỏi trong {result.run.get("seconds")} giây: '
                   f"<b>{total - failed}</b> đạt, <b>{failed}</b> không đạt"
                   + (f", <b>{len(loaded.errors)}</b> dòng lỗi bị bỏ qua" if loaded.errors else "") + ".</p>")
        gr.Info(f"Đánh giá xong {total} câu hỏi.", title="Thông báo")
        return (summary + bad, metrics_html(result.metrics), tags_html(result), failures_html(result),
                [str(p) for p in files])


# Pure helpers ------------------------------------------------------------------------------


class TestSetRejected(ValueError):
    """The uploaded test set cannot be used at all; the message is Vietnamese."""

    __test__ = False  # not a pytest class


def read_test_set(path: Path, *, max_mb: float) -> LoadResult:
    """The items and bad rows of an uploaded test set; ``TestSetRejected`` for a file that is unusable."""
    suffix = path.suffix.lower()
    if suffix not in EVAL_EXTENSIONS:
        raise TestSetRejected(f"Tệp “{path.name}” không phải .jsonl hoặc .csv.")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise TestSetRejected(f"Không đọc được tệp “{path.name}”.") from exc
    if size == 0:
        raise TestSetRejected(f"Tệp “{path.name}” rỗng.")
    if size > max_mb * 1024 * 1024:
        raise TestSetRejected(f"Tệp “{path.name}” vượt giới hạn {max_mb:g} MB.")
    try:
        return load_items(path)
    except UnicodeDecodeError as exc:
        raise TestSetRejected(f"Tệp “{path.name}” không phải văn bản UTF-8.") from exc
    except EvalInputError as exc:
        raise TestSetRejected(f"Không dùng được tệp “{path.name}”: {_strip_path(str(exc), path)}") from exc
    except (OSError, ValueError) as exc:
        raise TestSetRejected(f"Không đọc được tệp “{path.name}”.") from exc


def _strip_path(message: str, path: Path) -> str:
    return message.replace(f"{path}:", "dòng ").replace(str(path), path.name)


def metrics_rows(metrics: dict) -> list[tuple[str, str]]:
    """(label, shown value) for each headline metric."""
    return [(label, format_metric(metrics.get(key), latency=latency, latency_digits=0)) for key, label, latency in METRICS]


def tag_rows(result: EvalResult) -> list[list[str]]:
    """One row per tag: tag, questions, the ``TAG_COLUMNS`` and the failed count."""
    failed: dict[str, int] = {}
    for r in result.failed_records():
        for t in r.tags:
            failed[t] = failed.get(t, 0) + 1
    return [[tag, str(tm.get("questions")), *(format_metric(tm.get(k)) for k, _ in TAG_COLUMNS), str(failed.get(tag, 0))]
            for tag, tm in result.by_tag.items()]


def _table(headers: list[str], rows: list[list[str]] | list[tuple[str, str]], table_id: str) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="cv-eval-table" id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def metrics_html(metrics: dict) -> str:
    return "<h3>Chỉ số</h3>" + _table(["Chỉ số", "Giá trị"], metrics_rows(metrics), "cv-eval-metrics-table")


def tags_html(result: EvalResult) -> str:
    rows = tag_rows(result)
    if not rows:
        return '<h3>Theo nhãn</h3><p class="cv-empty">Bộ câu hỏi không gắn nhãn (tags).</p>'
    headers = ["Nhãn", "Số câu", *(label for _, label in TAG_COLUMNS), "Không đạt"]
    return "<h3>Theo nhãn</h3>" + _table(headers, rows, "cv-eval-tags-table")


def failures_html(result: EvalResult) -> str:
    e = html.escape
    failed = result.failed_records()
    if not failed:
        return '<h3>Câu không đạt</h3><p class="cv-empty">Không có câu nào không đạt.</p>'
    items = []
    for r in failed:
        answer = ("(lỗi khi xử lý câu hỏi)" if r.error else r.answer.strip() or "(trống)")
        items.append(
            f'<li class="cv-eval-fail"><div><b>{e(r.id)}</b>: {e(r.question)}</div>'
            f'<div class="cv-bad">Lý do: {e("; ".join(reason_vi(x) for x in r.failures))}</div>'
            f'<details><summary>Câu đã trả lời{" (từ chối)" if r.abstained else ""}</summary>'
            f'<div class="cv-text">{e(answer)}</div></details></li>')
    return f"<h3>Câu không đạt ({len(failed)})</h3><ol>{''.join(items)}</ol>"


def row_errors_html(errors: list[RowError]) -> str:
    """The rows that could not be read, by line number."""
    if not errors:
        return ""
    items = "".join(f"<li>Dòng {err.line}: {html.escape(err.message)}</li>" for err in errors)
    return f'<div class="cv-eval-rows"><b>{len(errors)} dòng không đọc được (bỏ qua):</b><ul>{items}</ul></div>'


def _error_html(message: str) -> str:
    return f'<p class="cv-bad">{html.escape(message)}</p>'


def save_report(result: EvalResult, folder: Path | None = None) -> list[Path]:
    """Write ``report.html`` and ``result.json`` into ``folder`` (a fresh temp dir by default)."""
    folder = Path(folder or tempfile.mkdtemp(prefix="congvan-eval-"))
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "report.html"
    page.write_text(render_html(result), encoding="utf-8")
    return [page, result.save(folder / "result.json")]
