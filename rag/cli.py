"""The ``congvan`` command line: ``ingest`` and ``docs`` (ask, eval and bench come later)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from ingest.errors import CongvanError
from rag.settings import Settings


def _settings(data_dir: Path | None) -> Settings:
    overrides = {"data_dir": data_dir} if data_dir else {}
    return Settings(**overrides)


data_dir_option = click.option(
    "--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Where the index lives (default: CONGVAN_DATA_DIR or ./data).",
)


@click.group()
@click.version_option(package_name="congvan")
def cli() -> None:
    """congvan: questions and answers over Vietnamese directive documents, with citations."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@data_dir_option
@click.option("--prune", is_flag=True, help="Remove indexed files under PATHS that no longer exist.")
@click.option("--rebuild", is_flag=True, help="Delete the whole index first, then ingest.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def ingest(paths: tuple[Path, ...], data_dir: Path | None, prune: bool, rebuild: bool, as_json: bool,
           quiet: bool) -> None:
    """Index PATHS (files or folders; default: the corpus folder). Unchanged files are skipped.

    Exits with status 1 when any file failed, after indexing all the others.
    """
    from tqdm import tqdm

    from ingest.index import Index
    from ingest.pipeline import ingest_paths

    settings = _settings(data_dir)
    targets = list(paths) or [settings.corpus_dir]
    if rebuild:
        Index.destroy(settings)
    bar = None

    def progress(done: int, total: int, current: str) -> None:
        nonlocal bar
        if quiet or as_json or total == 0:
            return
        if bar is None:
            bar = tqdm(total=total, unit="chunk", desc="Embedding", file=sys.stderr)
        bar.set_postfix_str(Path(current).name[-40:], refresh=False)
        bar.update(done - bar.n)

    try:
        with Index.open(settings) as index:
            summary = ingest_paths(index, targets, prune=prune, progress=progress)
    except CongvanError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if bar is not None:
            bar.close()

    if as_json:
        click.echo(json.dumps(summary.model_dump() | {"counts": _counts(summary)}, ensure_ascii=False, indent=2))
    else:
        for o in summary.outcomes:
            detail = f"{o.documents} doc(s), {o.chunks} chunk(s)" if o.status in ("ingested", "unchanged") else (o.reason or "")
            click.echo(f"{o.status:>9}  {o.file}  {detail}")
        counts = _counts(summary)
        click.echo(
            f"\n{counts['ingested']} ingested, {counts['unchanged']} unchanged, {counts['failed']} failed, "
            f"{counts['pruned']} pruned in {summary.seconds:.1f} s"
        )
    if summary.failed:
        sys.exit(1)


@cli.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the documents and their metadata as JSON.")
def docs(data_dir: Path | None, as_json: bool) -> None:
    """List indexed documents with their metadata."""
    from ingest.index import Index

    try:
        with Index.open(_settings(data_dir)) as index:
            documents = index.documents()
    except CongvanError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = [d.model_dump(exclude={"text", "page_starts"}) for d in documents]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for d in documents:
        m = d.metadata
        click.echo(f"{d.doc_id}  {m.doc_type or '?':<13} {m.number or '-':<22} {m.date or '-':<10} "
                   f"{m.issuer or '-'}  [{d.file}]")


def _counts(summary) -> dict[str, int]:
    return {s: summary.count(s) for s in ("ingested", "unchanged", "failed", "pruned")}


def main() -> None:
    """Console entry point."""
    cli()
