"""Render evaluation results: a Markdown report, a self-contained HTML page, and run comparisons.

The HTML page has inline CSS and inline SVG bar charts only (no script, no external resource),
so it opens from disk, from a mail attachment, or on a machine with no network.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from evals.runner import EvalResult, QuestionRecord
from ingest.text.labels import shorten

# Metrics shown as ratios (0-1), in display order, with their labels (English: ``congvan eval compare``).
RATIO_METRICS: list[tuple[str, str]] = [
    ("hit@1", "hit@1"),
    ("hit@3", "hit@3"),
    ("hit@5", "hit@5"),
    ("hit@10", "hit@10"),
    ("recall@5", "recall@5"),
    ("recall@10", "recall@10"),
    ("mrr@10", "MRR@10"),
    ("ndcg@10", "nDCG@10"),
    ("fact_recall", "fact recall"),
    ("citation_precision", "citation precision"),
    ("abstention_accuracy", "abstention accuracy (unanswerable)"),
    ("false_abstention_rate", "false abstentions (answerable)"),
    ("related_hit", "related hit (declined answerable: a related passage is gold)"),
]
LATENCY_METRICS: list[tuple[str, str]] = [("latency_p50_ms", "latency p50 (ms)"), ("latency_p95_ms", "latency p95 (ms)")]
COUNT_METRICS: list[tuple[str, str]] = [
    ("questions", "questions"), ("answerable", "answerable"), ("unanswerable", "unanswerable"), ("errors", "errors"),
]
TAG_COLUMNS: list[tuple[str, str]] = [
    ("hit@5", "hit@5"), ("mrr@10", "MRR@10"), ("fact_recall", "fact recall"),
    ("citation_precision", "cit. precision"), ("abstention_accuracy", "abstention acc."),
]

# The downloadable report (Markdown and HTML) is read by the office running the app: Vietnamese,
# metric codes (hit@5, MRR@10, nDCG@10, p50) kept as they are.
RATIO_METRICS_VI: list[tuple[str, str]] = [
    ("hit@1", "hit@1 (đoạn đúng đứng đầu)"),
    ("hit@3", "hit@3 (đoạn đúng trong 3 đoạn đầu)"),
    ("hit@5", "hit@5 (đoạn đúng trong 5 đoạn đầu)"),
    ("hit@10", "hit@10 (đoạn đúng trong 10 đoạn đầu)"),
    ("recall@5", "recall@5 (tỉ lệ đoạn đúng tìm được, 5 đoạn)"),
    ("recall@10", "recall@10 (tỉ lệ đoạn đúng tìm được, 10 đoạn)"),
    ("mrr@10", "MRR@10"),
    ("ndcg@10", "nDCG@10"),
    ("fact_recall", "Tỉ lệ dữ kiện có trong câu trả lời"),
    ("citation_precision", "Tỉ lệ trích dẫn đúng"),
    ("abstention_accuracy", "Từ chối đúng (câu ngoài văn bản)"),
    ("false_abstention_rate", "Từ chối sai (câu có đáp án)"),
    ("related_hit", "Từ chối nhưng đoạn \"có thể liên quan\" đúng"),
]
LATENCY_METRICS_VI: list[tuple[str, str]] = [("latency_p50_ms", "Thời gian trả lời p50 (ms)"),
                                             ("latency_p95_ms", "Thời gian trả lời p95 (ms)")]
COUNT_METRICS_VI: list[tuple[str, str]] = [
    ("questions", "Số câu hỏi"), ("answerable", "Câu có đáp án"), ("unanswerable", "Câu ngoài văn bản"),
    ("errors", "Lỗi"),
]
TAG_COLUMNS_VI: list[tuple[str, str]] = [
    ("hit@5", "hit@5"), ("mrr@10", "MRR@10"), ("fact_recall", "Dữ kiện"),
    ("citation_precision", "Trích dẫn đúng"), ("abstention_accuracy", "Từ chối đúng"),
]
_REASONS_VI = [
    (re.compile(r"^abstained on an answerable question$"), lambda m: "từ chối trả lời dù văn bản có đáp án"),
    (re.compile(r"^answered an unanswerable question$"), lambda m: "trả lời một câu mà văn bản không có đáp án"),
    (re.compile(r"^no gold passage in the top (\d+) retrieved chunks$"),
     lambda m: f"không có đoạn nguồn đúng trong {m.group(1)} đoạn tìm được đầu tiên"),
    (re.compile(r"^missing facts: (.*)$", re.DOTALL), lambda m: f"thiếu dữ kiện: {m.group(1)}"),
    (re.compile(r"^error: .*$", re.DOTALL), lambda m: "lỗi khi xử lý câu hỏi"),
]
_SNIPPET = 300
_TOP_SHOWN = 5


def load_result(source: EvalResult | dict[str, Any] | Path | str) -> EvalResult:
    """An ``EvalResult`` from itself, its dict form, or a JSON file written by ``EvalResult.save``."""
    if isinstance(source, EvalResult):
        return source
    if isinstance(source, dict):
        return EvalResult.model_validate(source)
    return EvalResult.model_validate(json.loads(Path(source).read_text(encoding="utf-8")))


def format_metric(value: float | None, *, latency: bool = False, latency_digits: int = 1) -> str:
    """A metric as shown: ratios to 3 decimals, milliseconds to ``latency_digits``, counts whole."""
    if value is None:
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.{latency_digits}f}" if latency else f"{value:.3f}"


def _delta(a: float | None, b: float | None, *, latency: bool = False) -> str:
    if a is None or b is None:
        return "–"
    d = b - a
    if isinstance(d, int):
        return f"{d:+d}"
    return f"{d:+.1f}" if latency else f"{d:+.3f}"


def _shorten(text: str, limit: int = _SNIPPET) -> str:
    return shorten(text, limit)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _failed_by_tag(result: EvalResult) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in result.failed_records():
        for tag in r.tags:
            counts[tag] = counts.get(tag, 0) + 1
    return counts


def reason_vi(reason: str) -> str:
    """A runner failure reason in Vietnamese (unknown reasons are kept as they are)."""
    for pattern, text in _REASONS_VI:
        m = pattern.match(reason)
        if m:
            return text(m)
    return reason


def _run_line_vi(result: EvalResult) -> str:
    run = result.run
    commit = (result.git_commit or "không rõ")[:10] + (" (có thay đổi chưa commit)" if result.git_dirty else "")
    return (f"{result.timestamp} · commit {commit} · chế độ {run.get('mode')} · top_k {run.get('top_k')} · "
            f"{run.get('questions')} câu hỏi từ {run.get('test_set') or '?'} trong {run.get('seconds')} s")


def _run_line(result: EvalResult) -> str:
    run = result.run
    commit = (result.git_commit or "unknown")[:10] + (" (uncommitted changes)" if result.git_dirty else "")
    return (f"{result.timestamp} · commit {commit} · mode {run.get('mode')} · top_k {run.get('top_k')} · "
            f"{run.get('questions')} questions from {run.get('test_set') or '?'} in {run.get('seconds')} s")


# Markdown --------------------------------------------------------------------------------


def render_markdown(source: EvalResult | dict[str, Any] | Path | str) -> str:
    """The run as Markdown, in Vietnamese: metrics, the per-tag table, and every failed question in detail."""
    result = load_result(source)
    m = result.metrics
    lines = [f"# Báo cáo đánh giá: {result.config_label}", "", _run_line_vi(result), "", "## Chỉ số", "",
             "| chỉ số | giá trị |", "|---|---|"]
    lines += [f"| {label} | {format_metric(m.get(key))} |" for key, label in COUNT_METRICS_VI + RATIO_METRICS_VI]
    lines += [f"| {label} | {format_metric(m.get(key), latency=True)} |" for key, label in LATENCY_METRICS_VI]
    lines += [f"| Câu không đạt | {len(result.failures)} |", ""]

    failed = _failed_by_tag(result)
    lines += ["## Theo nhãn", "", "| nhãn | số câu | " + " | ".join(label for _, label in TAG_COLUMNS_VI)
              + " | không đạt |", "|---|---|" + "---|" * len(TAG_COLUMNS_VI) + "---|"]
    for tag, tm in result.by_tag.items():
        cells = " | ".join(format_metric(tm.get(key)) for key, _ in TAG_COLUMNS_VI)
        lines.append(f"| {_md_cell(tag)} | {tm.get('questions')} | {cells} | {failed.get(tag, 0)} |")
    lines.append("")

    lines += [f"## Câu không đạt ({len(result.failures)})", ""]
    for r in result.failed_records():
        lines += _md_failure(r)
    if result.input_errors:
        lines += ["## Dòng không đọc được", ""] + [f"- {e}" for e in result.input_errors] + [""]
    return "\n".join(lines).rstrip() + "\n"


def _md_failure(r: QuestionRecord) -> list[str]:
    lines = [f"### {r.id}: {r.question}", "", f"- **lý do:** {'; '.join(reason_vi(x) for x in r.failures)}",
             f"- **nhãn:** {', '.join(r.tags) or '–'} · có đáp án: {'có' if r.answerable else 'không'}"]
    if r.facts:
        found = ", ".join(f"{f} {'✓' if ok else '✗'}" for f, ok in zip(r.facts, r.facts_found or [False] * len(r.facts)))
        lines.append(f"- **dữ kiện:** {found}")
    if r.reference_answer:
        lines.append(f"- **đáp án mẫu:** {_md_cell(r.reference_answer)}")
    for q in r.gold_quotes:
        lines.append(f"- **câu nguồn đúng:** “{_md_cell(q['quote'] or '')}”" + (f" ({q['file']})" if q.get("file") else ""))
    lines += ["", "Câu trả lời" + (" (từ chối)" if r.abstained else "") + ":", ""]
    lines += ["> " + line for line in (r.error or r.answer or "(trống)").splitlines()] + [""]
    if r.retrieved:
        lines += [f"Đoạn tìm được ({min(_TOP_SHOWN, len(r.retrieved))} đầu trong {len(r.retrieved)}):", ""]
        for c in r.retrieved[:_TOP_SHOWN]:
            mark = " **[nguồn đúng]**" if c.matches else ""
            where = " · ".join(p for p in (Path(c.file).name, c.number, c.section) if p)
            lines.append(f"{c.rank}. {_md_cell(where)}{mark}: {_md_cell(_shorten(c.text))}")
        lines.append("")
    return lines


# HTML ------------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1b1f24}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
.run{color:#57606a;font-size:.9rem}table{border-collapse:collapse;margin:.6rem 0}
th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.fail{border:1px solid #d0d7de;border-left:4px solid #cf222e;border-radius:4px;padding:.6rem 1rem;margin:1rem 0}
.fail h3{margin:.2rem 0 .4rem;font-size:1.05rem}.why{color:#cf222e}.tags{color:#57606a;font-size:.85rem}
.answer{background:#f6f8fa;padding:.5rem .8rem;white-space:pre-wrap;border-radius:4px}
ol.chunks li{margin:.3rem 0}.gold{background:#dafbe1;border-radius:3px;padding:0 .3rem;font-size:.8rem}
.ok{color:#1a7f37}.miss{color:#cf222e}.meta{color:#57606a;font-size:.85rem}
.charts{display:flex;flex-wrap:wrap;gap:2rem}
"""


def _svg_bars(rows: list[tuple[str, float | None]], *, width: int = 520, label_width: int = 230) -> str:
    """A horizontal bar chart of values in [0, 1], as inline SVG."""
    bar_h, gap = 18, 6
    height = len(rows) * (bar_h + gap) + gap
    span = width - label_width - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        parts.append(f'<text x="{label_width - 8}" y="{y + 13}" text-anchor="end" font-size="12">{html.escape(label)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{span}" height="{bar_h}" fill="#eaeef2"/>')
        if value is not None:
            w = max(0.0, min(1.0, float(value))) * span
            color = "#2da44e" if value >= 0.9 else "#bf8700" if value >= 0.7 else "#cf222e"
            parts.append(f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>')
        parts.append(f'<text x="{label_width + span + 6}" y="{y + 13}" font-size="12">{format_metric(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(source: EvalResult | dict[str, Any] | Path | str) -> str:
    """The run as one self-contained HTML page in Vietnamese (inline CSS and SVG charts, no script)."""
    result = load_result(source)
    m = result.metrics
    e = html.escape
    out = ["<!doctype html>", '<html lang="vi"><head><meta charset="utf-8">',
           f"<title>Báo cáo đánh giá: {e(result.config_label)}</title><style>{_CSS}</style></head><body>",
           f"<h1>Báo cáo đánh giá: {e(result.config_label)}</h1>", f'<p class="run">{e(_run_line_vi(result))}</p>']

    out.append('<h2>Chỉ số</h2><div class="charts">')
    out.append(_svg_bars([(label.split(" (")[0], m.get(key)) for key, label in RATIO_METRICS_VI],
                         width=560, label_width=270))
    out.append("<table><tr><th>số liệu</th><th>giá trị</th></tr>")
    for key, label in COUNT_METRICS_VI:
        out.append(f'<tr><td>{e(label)}</td><td class="num">{format_metric(m.get(key))}</td></tr>')
    for key, label in LATENCY_METRICS_VI:
        out.append(f'<tr><td>{e(label)}</td><td class="num">{format_metric(m.get(key), latency=True)}</td></tr>')
    out.append(f'<tr><td>Câu không đạt</td><td class="num">{len(result.failures)}</td></tr></table></div>')

    failed = _failed_by_tag(result)
    out.append("<h2>Theo nhãn</h2><div class=\"charts\">")
    out.append(_svg_bars([(f"{t} · hit@5", tm.get("hit@5")) for t, tm in result.by_tag.items()], width=560, label_width=270))
    out.append(_svg_bars([(f"{t} · dữ kiện", tm.get("fact_recall")) for t, tm in result.by_tag.items()], width=560, label_width=270))
    out.append("</div><table><tr><th>nhãn</th><th>số câu</th>" + "".join(f"<th>{e(label)}</th>" for _, label in TAG_COLUMNS_VI)
               + "<th>không đạt</th></tr>")
    for tag, tm in result.by_tag.items():
        cells = "".join(f'<td class="num">{format_metric(tm.get(key))}</td>' for key, _ in TAG_COLUMNS_VI)
        out.append(f'<tr><td>{e(tag)}</td><td class="num">{tm.get("questions")}</td>{cells}'
                   f'<td class="num">{failed.get(tag, 0)}</td></tr>')
    out.append("</table>")

    out.append(f"<h2>Câu không đạt ({len(result.failures)})</h2>")
    for r in result.failed_records():
        out.append(_html_failure(r))
    if result.input_errors:
        out.append("<h2>Dòng không đọc được</h2><ul>" + "".join(f"<li>{e(x)}</li>" for x in result.input_errors) + "</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _html_failure(r: QuestionRecord) -> str:
    e = html.escape
    parts = [f'<div class="fail" id="{e(r.id)}"><h3>{e(r.id)}: {e(r.question)}</h3>',
             f'<div class="why">{e("; ".join(reason_vi(x) for x in r.failures))}</div>',
             f'<div class="tags">{e(", ".join(r.tags))} · có đáp án: {"có" if r.answerable else "không"}</div>']
    if r.facts:
        found = r.facts_found or [False] * len(r.facts)
        parts.append("<p>Dữ kiện: " + ", ".join(
            f'<span class="{"ok" if ok else "miss"}">{e(f)} {"✓" if ok else "✗"}</span>' for f, ok in zip(r.facts, found)) + "</p>")
    if r.reference_answer:
        parts.append(f"<p>Đáp án mẫu: {e(r.reference_answer)}</p>")
    for q in r.gold_quotes:
        parts.append(f'<p class="meta">Câu nguồn đúng: “{e(q["quote"] or "")}”{" (" + e(q["file"]) + ")" if q.get("file") else ""}</p>')
    parts.append(f'<p>Câu trả lời{" (từ chối)" if r.abstained else ""}:</p><div class="answer">{e(r.error or r.answer or "(trống)")}</div>')
    if r.retrieved:
        parts.append(f'<p>Đoạn tìm được ({min(_TOP_SHOWN, len(r.retrieved))} đầu trong {len(r.retrieved)}):</p><ol class="chunks">')
        for c in r.retrieved[:_TOP_SHOWN]:
            where = " · ".join(p for p in (Path(c.file).name, c.number, c.section) if p)
            gold = ' <span class="gold">nguồn đúng</span>' if c.matches else ""
            parts.append(f'<li><span class="meta">{e(where)} · điểm {c.score:.4f}</span>{gold}<br>{e(_shorten(c.text))}</li>')
        parts.append("</ol>")
    parts.append("</div>")
    return "".join(parts)


def write_report(source: EvalResult | dict[str, Any] | Path | str, folder: Path | str) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` into ``folder``; return their paths."""
    result = load_result(source)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    md, page = folder / "report.md", folder / "report.html"
    md.write_text(render_markdown(result), encoding="utf-8")
    page.write_text(render_html(result), encoding="utf-8")
    return md, page


# Comparison ------------------------------------------------------------------------------


def compare(a_json: EvalResult | dict[str, Any] | Path | str, b_json: EvalResult | dict[str, Any] | Path | str) -> str:
    """Two runs side by side in Markdown: every metric with B − A, per-tag hit@5 and fact recall,
    and the questions that started or stopped failing."""
    a, b = load_result(a_json), load_result(b_json)
    la, lb = _md_cell(a.config_label), _md_cell(b.config_label)
    if la == lb:
        la, lb = f"A: {la}", f"B: {lb}"
    lines = [f"# {la} vs {lb}", "", f"- A: {_run_line(a)}", f"- B: {_run_line(b)}", "",
             f"| metric | {la} | {lb} | Δ (B − A) |", "|---|---|---|---|"]
    for key, label in COUNT_METRICS + RATIO_METRICS:
        lines.append(f"| {label} | {format_metric(a.metrics.get(key))} | {format_metric(b.metrics.get(key))} | "
                     f"{_delta(a.metrics.get(key), b.metrics.get(key))} |")
    for key, label in LATENCY_METRICS:
        va, vb = a.metrics.get(key), b.metrics.get(key)
        lines.append(f"| {label} | {format_metric(va, latency=True)} | {format_metric(vb, latency=True)} | {_delta(va, vb, latency=True)} |")
    lines.append(f"| failed questions | {len(a.failures)} | {len(b.failures)} | {len(b.failures) - len(a.failures):+d} |")

    tags = sorted(set(a.by_tag) | set(b.by_tag))
    if tags:
        lines += ["", "## Per tag", "",
                  f"| tag | hit@5 {la} | hit@5 {lb} | Δ | fact recall {la} | fact recall {lb} | Δ |",
                  "|---|---|---|---|---|---|---|"]
        for tag in tags:
            ta, tb = a.by_tag.get(tag, {}), b.by_tag.get(tag, {})
            row = [_md_cell(tag)]
            for key in ("hit@5", "fact_recall"):
                row += [format_metric(ta.get(key)), format_metric(tb.get(key)), _delta(ta.get(key), tb.get(key))]
            lines.append("| " + " | ".join(row) + " |")

    failed_a, failed_b = set(a.failures), set(b.failures)
    questions = {r.id: r.question for r in a.records} | {r.id: r.question for r in b.records}
    newly, fixed = [q for q in b.failures if q not in failed_a], [q for q in a.failures if q not in failed_b]
    lines += ["", f"## Failing in {lb} only ({len(newly)})", ""]
    lines += [f"- {q}: {_md_cell(questions.get(q, ''))}" for q in newly] or ["(none)"]
    lines += ["", f"## Failing in {la} only ({len(fixed)})", ""]
    lines += [f"- {q}: {_md_cell(questions.get(q, ''))}" for q in fixed] or ["(none)"]
    return "\n".join(lines) + "\n"
