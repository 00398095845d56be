"""The ``congvan`` command line: ``ingest``, ``embed``, ``docs`` and ``ask`` (``tasks`` and
``export-ics`` from ``rag.register_cli``; ``eval`` and ``bench`` through an entry point)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from ingest.errors import CongvanError
from ingest.progress import ChunkBar
from ingest.settings import Settings


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
@click.option("--rebuild", is_flag=True,
              help="Build a new index of every indexed file plus PATHS beside the old one; swap it in on success.")
@click.option("--repair", is_flag=True,
              help="Same as --rebuild, for a damaged index (its file list is read from beside it).")
@click.option("--max-chunks", type=click.IntRange(1), default=None,
              help="Accept files of up to N chunks this time (default CONGVAN_MAX_CHUNKS_PER_FILE).")
@click.option("--sparse-first", is_flag=True,
              help="Write keyword (sparse) vectors only, so files are searchable at once; "
                   "`congvan embed` adds the dense vectors later.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def ingest(paths: tuple[Path, ...], data_dir: Path | None, prune: bool, rebuild: bool, repair: bool,
           max_chunks: int | None, sparse_first: bool, as_json: bool, quiet: bool) -> None:
    """Index PATHS (files or folders; default: the corpus folder). Unchanged files are skipped.

    With --sparse-first nothing is embedded: the files are found by keyword and hybrid search
    at once, and `congvan embed` completes their dense vectors (for large backfills).

    Exits with status 1 when any file failed, after indexing all the others.
    """
    from ingest.backfill import BacklogSize, backlog_size
    from ingest.index import Index
    from ingest.pipeline import ingest_paths
    from ingest.rebuild import RebuildAborted, rebuild_index

    settings = _settings(data_dir)
    rebuild = rebuild or repair
    # A rebuild re-indexes what the index knew; the corpus is only the default of a plain run.
    targets = list(paths) or ([] if rebuild else [settings.corpus_dir])
    progress = ChunkBar("Indexing" if sparse_first else "Embedding", shown=not (quiet or as_json))

    aborted = None
    waiting = BacklogSize()
    try:
        if rebuild:
            summary = rebuild_index(settings, targets, prune=prune, progress=progress, max_chunks=max_chunks,
                                    sparse_first=sparse_first)
            if sparse_first:  # the new index's backlog is what this run wrote
                ingested = [o for o in summary.outcomes if o.status == "ingested"]
                waiting = BacklogSize(len(ingested), sum(o.chunks for o in ingested))
        else:
            with Index.open(settings) as index:
                summary = ingest_paths(index, targets, prune=prune, progress=progress, max_chunks=max_chunks,
                                       sparse_first=sparse_first)
                waiting = backlog_size(index)
    except RebuildAborted as exc:
        summary, aborted = exc.summary, exc
    except CongvanError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        progress.close()

    if as_json:
        click.echo(json.dumps(summary.model_dump() | {"counts": _counts(summary), "dense_backlog": {
            "files": waiting.files, "chunks": waiting.chunks}}, ensure_ascii=False, indent=2))
    else:
        for o in summary.outcomes:
            detail = f"{o.documents} doc(s), {o.chunks} chunk(s)" if o.status in ("ingested", "unchanged") else (o.reason or "")
            click.echo(f"{o.status:>9}  {o.file}  {detail}")
            for warning in o.warnings:
                click.echo(f"{'':>9}  ! {warning}")
        counts = _counts(summary)
        click.echo(
            f"\n{counts['ingested']} ingested, {counts['unchanged']} unchanged, {counts['failed']} failed, "
            f"{counts['pruned']} pruned in {summary.seconds:.1f} s"
        )
        if waiting.chunks:
            click.echo(f"{waiting.chunks} chunk(s) of {waiting.files} file(s) await dense vectors: keyword search "
                       "finds them already; run `congvan embed` to complete them.")
    if aborted is not None:
        raise click.ClickException(str(aborted))
    if summary.failed:
        sys.exit(1)


@cli.command()
@data_dir_option
@click.option("--limit", type=click.IntRange(1), default=None, help="Complete at most N files this time.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def embed(data_dir: Path | None, limit: int | None, as_json: bool, quiet: bool) -> None:
    """Add the dense vectors a `congvan ingest --sparse-first` left out.

    Resumable: stopped at any point, the next run redoes at most the file it was working on.
    """
    from ingest.backfill import backlog_size, embed_backlog
    from ingest.index import Index

    progress = ChunkBar("Embedding", shown=not (quiet or as_json))

    try:
        with Index.open(_settings(data_dir)) as index:
            before = backlog_size(index)
            if not before.files:
                if as_json:
                    click.echo(json.dumps({"files": 0, "chunks": 0, "missing": 0, "remaining_files": 0,
                                           "remaining_chunks": 0, "seconds": 0.0}))
                else:
                    click.echo("Nothing to embed: every chunk has its dense vector.")
                return
            try:
                summary = embed_backlog(index, progress=progress, limit=limit)
            except KeyboardInterrupt:
                progress.close()
                click.echo("Interrupted: run `congvan embed` again to continue where it stopped.", err=True)
                sys.exit(130)
    except CongvanError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        progress.close()
    if as_json:
        click.echo(json.dumps({"files": summary.files, "chunks": summary.chunks, "missing": summary.missing,
                               "remaining_files": summary.remaining.files,
                               "remaining_chunks": summary.remaining.chunks,
                               "seconds": round(summary.seconds, 3)}))
        return
    click.echo(f"Embedded {summary.chunks} chunk(s) of {summary.files} file(s) in {summary.seconds:.1f} s.")
    if summary.missing:
        click.echo(f"! {summary.missing} chunk(s) listed in the backlog were no longer in the index; "
                   "run `congvan ingest` to check the files.")
    if summary.remaining.files:
        click.echo(f"{summary.remaining.chunks} chunk(s) of {summary.remaining.files} file(s) still await dense "
                   "vectors: run `congvan embed` again.")


@cli.command()
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the documents and their metadata as JSON.")
def docs(data_dir: Path | None, as_json: bool) -> None:
    """List indexed documents with their metadata."""
    from ingest.index import Index

    try:
        with Index.open(_settings(data_dir)) as index:
            documents = index.catalogue()
    except CongvanError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = [d.model_dump(exclude={"chunks"}) for d in documents]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for d in documents:
        m = d.metadata
        click.echo(f"{d.doc_id}  {m.doc_type or '?':<13} {m.number or '-':<22} {m.date or '-':<10} "
                   f"{m.issuer or '-'}  [{d.file}]")


@cli.command()
@click.argument("question")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the answer, citations and retrieved chunks as JSON.")
@click.option("--top-k", type=click.IntRange(1, 100), default=None, help="Chunks to retrieve (default CONGVAN_TOP_K).")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE",
              help="Restrict to documents: issuer, doc_type, number, file, doc_id, date_from, date_to.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "sparse"]), default="hybrid", show_default=True)
@click.option("--history", "history", multiple=True, metavar="TEXT",
              help="An earlier question of the conversation (repeatable, oldest first): QUESTION may follow up on it.")
def ask(question: str, data_dir: Path | None, as_json: bool, top_k: int | None, filters: tuple[str, ...],
        mode: str, history: tuple[str, ...]) -> None:
    """Answer QUESTION from the indexed documents, with citations.

    With --history, QUESTION may be a follow-up ("còn huyện Bắc Sơn thì sao?"); the question
    as understood is printed first ("Hiểu là: …")."""
    from ingest.index import Index
    from rag.assistant import Assistant

    parsed = {}
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--filter")
        parsed[key.strip()] = value.strip()
    try:
        with Index.open(_settings(data_dir)) as index:
            answer = Assistant(index).ask(question, history=list(history), filters=parsed, top_k=top_k, mode=mode)
    except CongvanError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(answer.model_dump(), ensure_ascii=False, indent=2))
        return
    if answer.standalone_question:
        # The rewritten follow-up (or reduced long question) is what was searched: show it, so
        # a wrong reading is visible before the answer to it.
        click.echo(f"Hiểu là: {answer.standalone_question}\n")
    click.echo(answer.answer)
    for note in answer.notes:
        click.echo(f"! {note}", err=True)
    if answer.citations:
        click.echo("\nNguồn:")
    for c in answer.citations:
        where = " · ".join(p for p in (c.doc_type and c.doc_type.capitalize(), c.number, c.issuer, c.date, c.section) if p)
        click.echo(f"[{c.n}] {where}\n    {c.file}:{c.start}-{c.end}")
    if answer.related:
        click.echo("\nCó thể liên quan:")
    for c in answer.related:
        where = " · ".join(p for p in (c.doc_type and c.doc_type.capitalize(), c.number, c.issuer, c.date, c.section) if p)
        quote = " ".join(c.quote.split())
        click.echo(f"- {where}\n    “{quote}”\n    {c.file}:{c.start}-{c.end}")


def _counts(summary) -> dict[str, int]:
    return {s: summary.count(s) for s in ("ingested", "unchanged", "failed", "pruned")}


def _register_plugins() -> None:
    """Add the commands other packages declare under the ``congvan.commands`` entry point
    (``eval`` and ``bench`` from ``evals``), so this module never imports the evaluation code."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="congvan.commands"):
        entry.load()(cli)


_register_plugins()


from rag.register_cli import register as _register_tasks  # noqa: E402  (tasks, export-ics)
_register_tasks(cli)


def main() -> None:
    """Console entry point."""
    cli()


if __name__ == "__main__":
    main()
