"""``congvan eval`` and ``congvan bench``: registered on the main command group by ``register``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from evals.runner import EvalResult, QuestionRecord

_DATA_DIR = click.option(
    "--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Where the index lives (default: CONGVAN_DATA_DIR or ./data).",
)


class _DefaultCommandGroup(click.Group):
    """A group whose first argument, when it names no subcommand, goes to a default one:
    ``congvan eval FILE`` runs ``eval run FILE`` and ``congvan eval compare A B`` compares."""

    default_command = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


def _settings(data_dir: Path | None):
    from ingest.settings import Settings

    return Settings(**({"data_dir": data_dir} if data_dir else {}))


@click.group("eval", cls=_DefaultCommandGroup)
def eval_group() -> None:
    """Evaluate answers on a Q&A test set (`congvan eval FILE`), compare two runs, or score the register."""


@eval_group.command("run")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "json_out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the full result (settings, commit, per-question records, metrics) here.")
@click.option("--report", "report_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Write report.md and report.html into this folder.")
@click.option("--config", "config_label", default=None, help="A label for this configuration (default: the mode).")
@_DATA_DIR
@click.option("--mode", type=click.Choice(["hybrid", "dense", "sparse"]), default="hybrid", show_default=True)
@click.option("--top-k", type=click.IntRange(1, 100), default=None, help="Chunks to retrieve (default CONGVAN_TOP_K).")
@click.option("--quiet", is_flag=True, help="No progress line.")
def eval_run(file: Path, json_out: Path | None, report_dir: Path | None, config_label: str | None,
             data_dir: Path | None, mode: str, top_k: int | None, quiet: bool) -> None:
    """Ask every question of FILE (.jsonl or .csv) against the current index and score the answers.

    Nothing is ingested. Bad rows are reported and skipped; the exit status is non-zero only
    when the test set is unusable (unreadable, or no valid question) or the index cannot open.
    """
    from evals.format import EvalInputError, load_items
    from evals.report import write_report
    from evals.runner import run_eval
    from ingest.errors import CongvanError
    from ingest.index import Index
    from rag.assistant import Assistant

    try:
        loaded = load_items(file)
    except (EvalInputError, OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(str(exc)) from exc
    for error in loaded.errors:
        click.echo(f"skipped: {error}", err=True)
    if not loaded.items:
        raise click.ClickException(f"{file}: no usable question")

    def progress(done: int, total: int, record: QuestionRecord) -> None:
        if not quiet:
            mark = "FAIL" if record.failures else "ok"
            click.echo(f"\r[{done}/{total}] {record.id} {mark}    ", nl=done == total, err=True)

    try:
        with Index.open(_settings(data_dir)) as index:
            result = run_eval(Assistant(index), loaded.items, config_label=config_label or mode, mode=mode,
                              top_k=top_k, test_set=str(file), input_errors=[str(e) for e in loaded.errors],
                              progress=progress)
    except CongvanError as exc:
        raise click.ClickException(str(exc)) from exc

    click.echo(format_summary(result))
    if json_out:
        result.save(json_out)
        click.echo(f"\nresult: {json_out}")
    if report_dir:
        md, page = write_report(result, report_dir)
        click.echo(f"report: {md} and {page}")


@eval_group.command("compare")
@click.argument("a_json", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.argument("b_json", type=click.Path(path_type=Path, dir_okay=False, exists=True))
def eval_compare(a_json: Path, b_json: Path) -> None:
    """Print two eval results (JSON from `congvan eval --json`) side by side with deltas (B − A)."""
    from pydantic import ValidationError

    from evals.report import compare

    try:
        click.echo(compare(a_json, b_json))
    except (ValidationError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"not an eval result: {exc}") from exc


@eval_group.command("register")
@click.argument("gold", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@_DATA_DIR
@click.option("--json", "json_out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the figures, matched pairs, misses and extras here.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=None,
              help="Least quote overlap for a match (default 0.5).")
def eval_register(gold: Path, data_dir: Path | None, json_out: Path | None, threshold: float | None) -> None:
    """Score the indexed obligations register against GOLD (the devset's obligations.jsonl format).

    Prints precision, recall and unit accuracy, then every miss (gold not matched) and every
    extra (extracted not matched) by file. The match rule is in ``evals.register_eval``.
    """
    from evals.register_eval import DEFAULT_THRESHOLD, GoldInputError, format_score, load_gold, score_register
    from ingest.errors import CongvanError
    from ingest.index import Index
    from ingest.register import load_register

    try:
        gold_items = load_gold(gold)
    except (GoldInputError, OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        with Index.open(_settings(data_dir)) as index:
            register = load_register(index)
    except CongvanError as exc:
        raise click.ClickException(str(exc)) from exc
    score = score_register(gold_items, register.obligations,
                           threshold=DEFAULT_THRESHOLD if threshold is None else threshold)
    click.echo(format_score(score))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(score.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        click.echo(f"\nresult: {json_out}")


def format_summary(result: EvalResult) -> str:
    """The plain-text summary `congvan eval` prints: overall metrics, then one row per tag."""
    from evals.report import LATENCY_METRICS, RATIO_METRICS, TAG_COLUMNS

    m = result.metrics

    def fmt(v: float | None, width: int = 7, latency: bool = False) -> str:
        if v is None:
            return f"{'-':>{width}}"
        return f"{v:>{width}.1f}" if latency else f"{v:>{width}.3f}"

    lines = [(f"{result.config_label}: {m.get('questions')} questions ({m.get('answerable')} answerable, "
             f"{m.get('unanswerable')} unanswerable), {len(result.failures)} failed, {m.get('errors')} errors"), ""]
    for key, label in RATIO_METRICS:
        lines.append(f"  {label:<36}{fmt(m.get(key))}")
    for key, label in LATENCY_METRICS:
        lines.append(f"  {label:<36}{fmt(m.get(key), latency=True)}")
    failed: dict[str, int] = {}
    for r in result.failed_records():
        for t in r.tags:
            failed[t] = failed.get(t, 0) + 1
    width = max([len(t) for t in result.by_tag] + [3])
    lines += ["", f"  {'tag':<{width}} {'n':>3} " + " ".join(f"{label[:15]:>15}" for _, label in TAG_COLUMNS) + f" {'failed':>6}"]
    for tag, tm in result.by_tag.items():
        cells = " ".join(fmt(tm.get(key), 15) for key, _ in TAG_COLUMNS)
        lines.append(f"  {tag:<{width}} {tm.get('questions'):>3} {cells} {failed.get(tag, 0):>6}")
    if result.failures:
        lines += ["", "failed:"]
        for r in result.failed_records():
            lines.append(f"  {r.id}: {'; '.join(r.failures)}")
    return "\n".join(lines)


@click.group("bench")
def bench_group() -> None:
    """Retrieval benchmarks."""


@bench_group.command("beir")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--json", "json_out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the full result here.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Run only the first N judged queries.")
@click.option("--mode", "modes", multiple=True, type=click.Choice(["sparse", "dense", "hybrid"]),
              help="Search mode(s) to run (repeatable; default: all three).")
@click.option("--quiet", is_flag=True, help="No progress line.")
def bench_beir_command(folder: Path, json_out: Path | None, limit: int | None, modes: tuple[str, ...], quiet: bool) -> None:
    """Benchmark retrieval on a BEIR FOLDER (corpus.jsonl, queries.jsonl, qrels.tsv).

    The passages are indexed into a temporary collection of their own; the main index is not
    touched. Prints R@1/5/10, MRR@10, nDCG@10 and latency per mode.
    """
    from evals.beir import MODES, bench_beir, format_bench
    from evals.format import EvalInputError
    from ingest.errors import CongvanError

    def progress(stage: str, done: int, total: int) -> None:
        if not quiet and (stage == "embed" or done == total or done % 50 == 0):
            click.echo(f"\r{stage}: {done}/{total}   ", nl=done == total, err=True)

    try:
        result = bench_beir(folder, _settings(None), modes=modes or MODES, limit=limit, progress=progress)
    except (EvalInputError, CongvanError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(format_bench(result))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        click.echo(f"\nresult: {json_out}")
    sys.stdout.flush()


def register(cli: click.Group) -> None:
    """Add ``eval`` and ``bench`` to the ``congvan`` command group."""
    cli.add_command(eval_group)
    cli.add_command(bench_group)
