"""CLI commands of the ingest side: `collect`, `collectors status`, `publisher` (registered in
mentiondesk.cli). They check the schema revision and never migrate: `migrate`, `up` and the desk do."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from core.settings import Settings, get_settings

collectors_app = typer.Typer(help="Collector health.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _interruptible_sleep(stop: threading.Event) -> Callable[[float], None]:
    """The HTTP client's pacing sleep, cut short by `stop`: a robots.txt Crawl-delay (up to 30 s) or
    a Retry-After (up to 120 s) must not hold up the exit after SIGTERM."""
    from ingest.runner import Interrupted

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise Interrupted

    return sleep


def _logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def _require_schema(settings: Settings) -> None:
    """Collectors and the publisher write rows, never the schema: `migrate`, `up` or the desk do."""
    from core.db.engine import SchemaBehind, require_current_schema

    try:
        require_current_schema(settings.database_url)
    except SchemaBehind as exc:
        raise _fail(str(exc)) from exc


def collect(
    once: Annotated[bool, typer.Option(help="one complete pass over every feed, then exit")] = False,
) -> None:
    """Collect mentions of the brands config (MD_CONFIG) into Kafka: VK and X with their tokens,
    review pages and RSS feeds always."""
    from core.brands import ConfigError, load_config
    from core.bus.address import bootstrap_servers
    from core.bus.producer import BrokerUnavailable, MentionProducer, ensure_topics
    from core.db.engine import make_engine, make_session_factory
    from ingest.collectors import build_collectors, plan_collectors
    from ingest.http import PoliteClient
    from ingest.runner import CollectorRunner
    from mentiondesk.runtime import refuse_unsafe

    _logging()
    settings = get_settings()
    refuse_unsafe(settings)
    if settings.config is None:
        raise _fail("no brands config: set MD_CONFIG (see config/brands.example.toml)")
    try:
        config = load_config(settings.config)
        plan = plan_collectors(config, settings, settings.config)
    except ConfigError as exc:
        raise _fail(str(exc)) from exc
    _require_schema(settings)
    if not plan.on:
        typer.echo(f"collectors off: {plan.summary()}", err=True)
        return
    for reason in plan.off_reasons(configured_only=True):
        typer.echo(f"off: {reason}", err=True)
    bootstrap = bootstrap_servers(settings)
    try:
        ensure_topics(bootstrap, settings.topic_partitions)
        producer = MentionProducer(
            bootstrap, client_id="mentiondesk-collect", max_request_bytes=settings.kafka_max_request_bytes
        )
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc
    stop = _stop_on_signals()
    # one per process: review pages and feeds share its per-host limits
    client = PoliteClient(sleep=_interruptible_sleep(stop))
    collectors = build_collectors(config, settings, client=client)
    engine = make_engine(settings.database_url)
    runner = CollectorRunner(
        collectors,
        producer,
        make_session_factory(engine),
        poll_interval_s=settings.poll_interval_s,
        dead_letters=producer,  # oversize mentions go to mentions.dlq.v1, flushed with the page
    )
    typer.echo(
        f"collecting: {', '.join(c.name for c in collectors)} every {settings.poll_interval_s:g}s", err=True
    )
    try:
        runner.run(stop, once=once)
    finally:
        client.close()
        producer.close()
        engine.dispose()


def status_lines(settings: Settings, now: datetime | None = None) -> list[str]:
    from core.db.collector_status import read_status
    from core.db.engine import make_engine, make_session_factory, migrate

    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            rows = read_status(session, now or datetime.now(UTC), settings.stall_periods)
    finally:
        engine.dispose()
    lines = [f"{'collector':<24} {'state':<13} {'last success':<26} {'per hour':>8} {'total':>8} {'lag':>8}"]
    for row in rows:
        success = row.last_success_at.isoformat(timespec="seconds") if row.last_success_at else "never"
        lag = f"{row.lag_s:.0f}s" if row.lag_s is not None else "-"
        lines.append(
            f"{row.collector:<24} {row.state:<13} {success:<26} {row.mentions_per_hour:>8} "
            f"{row.mentions_total:>8} {lag:>8}"
        )
        if row.last_error:
            when = row.last_error_at.isoformat(timespec="seconds") if row.last_error_at else ""
            lines.append(f"    last error {when}: {row.last_error}")
        if row.alert:
            lines.append(f"    ALERT: {row.alert}")
    if not rows:
        lines.append("(no collector has run yet)")
    return lines


@collectors_app.command("status")
def collectors_status() -> None:
    """Last success, last error, mentions per hour, lag and alerts of every collector."""
    lines = status_lines(get_settings())
    for line in lines:
        typer.echo(line)
    if any("ALERT:" in line for line in lines):
        raise typer.Exit(2)


def publisher() -> None:
    """Post desk replies back to the networks (replies.outbound.v1 -> the `replies` table)."""
    from core.bus.address import bootstrap_servers
    from core.bus.producer import BrokerUnavailable, ensure_topics
    from desk.services.reply_outcome import settle_result
    from ingest.publisher import run_publisher
    from mentiondesk.runtime import refuse_unsafe

    _logging()
    settings = get_settings()
    refuse_unsafe(settings)
    bootstrap = bootstrap_servers(settings)
    try:
        ensure_topics(bootstrap, settings.topic_partitions)
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc
    _require_schema(settings)
    stop = _stop_on_signals()
    relay = _start_relay(settings, bootstrap, stop)
    try:
        # the desk settles a reply's case (clocks, status) in the transaction of its result
        run_publisher(settings, bootstrap, stop, after_result=settle_result)
    finally:
        stop.set()
        relay.join(timeout=10)


def _start_relay(settings: Settings, bootstrap: str, stop: threading.Event) -> threading.Thread:
    """The outbox relay beside the publisher: recorded replies reach the topic, again if lost."""
    from core.bus.relay import OutboxRelay
    from core.db.engine import make_engine, make_session_factory

    relay = OutboxRelay(
        make_session_factory(make_engine(settings.database_url)),
        bootstrap,
        redeliver_after=timedelta(seconds=settings.reply_redeliver_s),
    )
    thread = threading.Thread(
        target=relay.run, args=(stop, settings.relay_interval_s), name="outbox-relay", daemon=True
    )
    thread.start()
    return thread


def register(app: typer.Typer) -> None:
    app.command()(collect)
    app.command()(publisher)
    app.add_typer(collectors_app, name="collectors")
