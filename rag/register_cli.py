"""``congvan tasks`` and ``congvan export-ics``: the obligation register on the command line.

Only the assembly of the commands lives here; listing, rows and the calendar are ``ingest.register``'s.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from ingest.errors import CongvanError
from ingest.settings import Settings

_data_dir = click.option(
    "--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Where the index lives (default: CONGVAN_DATA_DIR or ./data).",
)
_unit = click.option("--unit", default=None, metavar="TEXT",
                     help="Only tasks of this unit (acting or coordinating; accents and UBND/LĐTBXH optional).")


def _open(data_dir: Path | None):
    from ingest.index import Index

    return Index.open(Settings(**({"data_dir": data_dir} if data_dir else {})))


def _iso_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not YYYY-MM-DD") from exc


@click.command()
@_data_dir
@click.option("--json", "as_json", is_flag=True, help="Print the obligations as JSON.")
@_unit
@click.option("--before", callback=_iso_day, default=None, metavar="YYYY-MM-DD",
              help="Only tasks due on or before this day (recurring ones by their next occurrence).")
def tasks(data_dir: Path | None, as_json: bool, unit: str | None, before: date | None) -> None:
    """List who must do what by when, soonest first, with the source of each task."""
    from ingest.register import list_obligations, next_due, obligation_row

    try:
        with _open(data_dir) as index:
            found = list_obligations(index, unit=unit, before=before)
    except CongvanError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        rows = [o.model_dump() | {"next_due": (d.isoformat() if (d := next_due(o.deadline)) else None)}
                for o in found]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo("Không có nhiệm vụ có thời hạn nào khớp.")
        return
    today = date.today()
    for o in found:
        row = obligation_row(o, today)
        late = "  (quá hạn)" if row["due"] and str(row["due"]) < today.isoformat() else ""
        click.echo(f"{row['due'] or '?':<10}  {row['deadline']}{late}")
        click.echo(f"    Đơn vị: {row['units'] or '(không ghi rõ)'}")
        click.echo(f"    Nhiệm vụ: {row['action']}")
        if row["coordinating"]:
            click.echo(f"    Phối hợp: {row['coordinating']}")
        if row["recipients"]:
            click.echo(f"    Gửi/trình: {row['recipients']}" + (f" (qua {row['via']})" if row["via"] else ""))
        source = " · ".join(p for p in (row["doc_type"].capitalize(), row["number"], row["issuer"], row["section"]) if p)
        click.echo(f"    Nguồn: {source}\n    {row['file']}:{row['start']}-{row['end']}")


@click.command("export-ics")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@_data_dir
@_unit
def export_ics(out: Path, data_dir: Path | None, unit: str | None) -> None:
    """Write every deadline to OUT as an iCalendar file: titles name the unit, a reminder
    CONGVAN_ICS_REMINDER_DAYS days before, recurring ones with an RRULE ending with the plan's period."""
    from ingest.register import list_obligations, to_ics

    try:
        with _open(data_dir) as index:
            found = list_obligations(index, unit=unit)
    except CongvanError as exc:
        raise click.ClickException(str(exc)) from exc
    settings = Settings()
    payload = to_ics(found, reminder_days=settings.ics_reminder_days, recurrence_years=settings.ics_recurrence_years)
    out.write_bytes(payload)
    events = payload.count(b"BEGIN:VEVENT")
    click.echo(f"{events} thời hạn → {out}")


def register(cli: click.Group) -> None:
    """Add the register commands to the ``congvan`` group."""
    cli.add_command(tasks)
    cli.add_command(export_ics)
