"""`mentiondesk digest`: build the daily digest, write it, send it, or run the daily schedule."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from core.settings import get_settings


def digest(
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default: yesterday)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="folder for the HTML and PNGs")] = None,
    send: Annotated[bool, typer.Option("--send", help="e-mail it to MD_DIGEST_TO")] = False,
    clusters: Annotated[
        bool, typer.Option("--clusters/--no-clusters", help="cluster complaints with the model")
    ] = True,
    schedule: Annotated[bool, typer.Option("--schedule", help="send every day at MD_DIGEST_TIME")] = False,
) -> None:
    """Build the daily digest: the day against the 7-day average, spikes, topics, KPIs."""
    from core.notify.mail import MailNotConfigured
    from desk.services.digest_run import default_day, produce, run_schedule, write
    from desk.services.digest_run import send as send_digest
    from mentiondesk.runtime import refuse_unsafe
    from mentiondesk.wiring import model_embedder

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    settings = get_settings()
    if schedule:
        refuse_unsafe(settings)  # the schedule is a service; a one-off digest is not
        if not settings.smtp_host or not settings.digest_to:
            raise typer.BadParameter("the schedule needs MD_SMTP_HOST and MD_DIGEST_TO")
        # the model is built once, at the first report that needs it, and kept for every later one;
        # the weekly report (MD_WEEKLY_REPORT_DAY/_AT) is sent by a thread of this same process
        from desk.services.weekly_run import SharedEmbedder
        from mentiondesk.report_cli import start_weekly_schedule

        shared = SharedEmbedder((lambda: model_embedder(settings)) if clusters else lambda: None)
        start_weekly_schedule(settings, shared)
        run_schedule(settings, embedder=shared)
        return
    try:
        chosen = date.fromisoformat(day) if day else default_day(settings, datetime.now(UTC))
    except ValueError as exc:
        raise typer.BadParameter(f"--date: {exc}") from exc
    built, pngs = produce(settings, chosen, model_embedder() if clusters else None)
    typer.echo(
        f"digest {chosen}: {built.counts.mentions} mentions, {built.counts.negative} negative, "
        f"{len(built.alerts)} spikes, {built.kpis.cases} cases"
    )
    if out is not None:
        typer.echo(f"written: {write(built, pngs, out)}")
    if send:
        try:
            to = send_digest(settings, built, pngs)
        except (MailNotConfigured, ValueError, OSError) as exc:
            typer.secho(f"error: not sent: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"sent to {', '.join(to)}")


def register(app: typer.Typer) -> None:
    app.command("digest")(digest)
