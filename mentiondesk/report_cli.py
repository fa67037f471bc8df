"""`mentiondesk report weekly`: the weekly report for brand leads, printed or e-mailed."""

from __future__ import annotations

import _thread
import logging
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from desk.services.complaints import Embedder

report_app = typer.Typer(help="Reports for brand leads.", no_args_is_help=True)


class Format(StrEnum):
    text = "text"
    html = "html"


@report_app.command("weekly")
def weekly(
    *,
    week: Annotated[
        str | None, typer.Option("--week", help="ISO week, e.g. 2026-W48 (default: last complete week)")
    ] = None,
    brand: Annotated[str | None, typer.Option("--brand", help="one brand (default: all)")] = None,
    send: Annotated[bool, typer.Option("--send", help="e-mail it to MD_DIGEST_TO")] = False,
    fmt: Annotated[Format, typer.Option("--format", help="what to print")] = Format.text,
    out: Annotated[Path | None, typer.Option("--out", help="write to this file instead of printing")] = None,
    clusters: Annotated[
        bool, typer.Option("--clusters/--no-clusters", help="cluster complaints with the model")
    ] = True,
) -> None:
    """The week's most frequent complaint topics and their change, KPIs, CSAT and NPS."""
    from core.notify.mail import MailNotConfigured
    from desk.services.weekly_render import headline, render_html, render_text
    from desk.services.weekly_report import parse_week
    from desk.services.weekly_run import default_week, produce
    from desk.services.weekly_run import send as send_report
    from mentiondesk.wiring import model_embedder

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    settings = get_settings()
    if week is not None:
        try:
            parse_week(week)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--week") from exc
    chosen = week or default_week(settings, datetime.now(UTC))
    report = produce(settings, chosen, brand, model_embedder(settings) if clusters else None)
    rendered = render_html(report) if fmt is Format.html else render_text(report)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(rendered, encoding="utf-8")
        typer.echo(f"written: {out}")
    elif not send:
        typer.echo(rendered, nl=False)
    if send:
        try:
            to = send_report(settings, report)
        except (MailNotConfigured, ValueError, OSError) as exc:
            typer.secho(f"error: not sent: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"{headline(report)}; sent to {', '.join(to)}")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")


def start_weekly_schedule(
    settings: Settings, embedder: Callable[[], Embedder | None]
) -> threading.Thread | None:
    """The weekly report's schedule as a daemon thread of the digest schedule's process (None when
    MD_WEEKLY_REPORT_DAY=off). Should the loop itself die, the process stops (status 1) so that `up`
    or the container restarts both schedules, rather than going on without the weekly one."""
    from desk.services.weekly_run import run_weekly_schedule

    if settings.weekly_report_day == "off":
        return None

    def run() -> None:
        try:
            run_weekly_schedule(settings, embedder=embedder)
        except BaseException:
            logging.getLogger(__name__).exception("the weekly report schedule stopped")
            _thread.interrupt_main()

    thread = threading.Thread(target=run, name="weekly-report", daemon=True)
    thread.start()
    return thread
