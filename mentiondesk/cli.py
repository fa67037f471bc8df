"""The `mentiondesk` command."""

from __future__ import annotations

import csv
import json
import logging
import os
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from mentiondesk.settings import PROJECT_ROOT, get_settings

app = typer.Typer(help="mentiondesk: social-media monitoring and response desk.", no_args_is_help=True)
model_app = typer.Typer(help="Build, train and evaluate the negativity model.", no_args_is_help=True)
app.add_typer(model_app, name="model")

from ingest.commands import register as _register_ingest_commands  # noqa: E402

_register_ingest_commands(app)  # collect, collectors status, publisher

from mentiondesk.digest_cli import register as _register_digest_command  # noqa: E402

_register_digest_command(app)  # digest

from desk.commands import register as _register_desk_commands  # noqa: E402

_register_desk_commands(app)  # users add|list|disable|enable

DEMO_FILE = Path(__file__).parent / "demo" / "mentions.jsonl"


def _logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


@app.command()
def config() -> None:
    """Show the settings in force (secrets hidden)."""
    for name, value in get_settings().public_view().items():
        typer.echo(f"MD_{name.upper():<28} {value}")


@app.command()
def up() -> None:
    """Start everything: broker (unless MD_KAFKA_BOOTSTRAP), worker, demo stream, desk."""
    from mentiondesk.runtime import Supervisor

    _logging()
    for noisy in ("kafka", "alembic"):  # `up` prints its own status lines; details go to var/logs
        logging.getLogger(noisy).setLevel(logging.WARNING)
    raise typer.Exit(Supervisor(get_settings()).run())


@app.command()
def broker(port: Annotated[int | None, typer.Option(help="port on 127.0.0.1")] = None) -> None:
    """Run the embedded Kafka-compatible broker in the foreground."""
    from mentiondesk.broker import BrokerError, EmbeddedBroker

    settings = get_settings()
    server = EmbeddedBroker(port or settings.broker_port)
    try:
        server.start()
    except BrokerError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"broker listening on {server.bootstrap} (memory storage)")
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop()


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    from desk.store.engine import migrate as run_migrations

    run_migrations(get_settings().database_url)
    typer.echo("database schema is up to date")


@app.command()
def worker(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """Run the Faust worker: scoring, DLQ, persistence."""
    from ingest.producer import BrokerUnavailable, ensure_topics
    from mentiondesk.kafka_address import bootstrap_servers

    settings = get_settings()
    try:
        ensure_topics(bootstrap_servers(settings), settings.topic_partitions)
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc
    from desk.store.engine import migrate as run_migrations

    run_migrations(settings.database_url)
    from faust.worker import Worker

    from sentiment.agents import preload_model
    from sentiment.app import app as faust_app

    try:
        preload_model()
    except (OSError, ValueError) as exc:
        raise _fail(f"the negativity model could not be loaded: {exc}") from exc

    Worker(faust_app, loglevel="debug" if verbose else "info").execute_from_commandline()


@app.command()
def desk() -> None:
    """Run the Streamlit desk alone."""
    from desk.services.bootstrap import NoUsers, ensure_first_user
    from desk.store.engine import make_engine, make_session_factory
    from desk.store.engine import migrate as run_migrations
    from mentiondesk.runtime import desk_command

    settings = get_settings()
    run_migrations(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        password = ensure_first_user(make_session_factory(engine), settings.environment)
    except NoUsers as exc:
        raise _fail(str(exc)) from exc
    finally:
        engine.dispose()
    if password is not None:
        typer.echo(f"created user admin / {password}  (development only: printed once, change it)")
    os.execv(sys.executable, desk_command(settings, host=settings.desk_host))


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(help="JSONL or CSV with a `text` column")],
    rate: Annotated[
        float | None, typer.Option(help="mentions per second (default: as fast as possible)")
    ] = None,
    loop: Annotated[bool, typer.Option(help="start again at the end, with fresh ids")] = False,
    keep_timestamps: Annotated[bool, typer.Option(help="keep `created_at` instead of now")] = False,
) -> None:
    """Replay a file of mentions into the pipeline."""
    from ingest.producer import BrokerUnavailable, DeliveryFailed, MentionProducer, ensure_topics
    from ingest.replay import replay as run_replay
    from mentiondesk.kafka_address import bootstrap_servers
    from mentiondesk.tabular import TabularFileError

    _logging()
    settings = get_settings()
    bootstrap = bootstrap_servers(settings)
    try:
        ensure_topics(bootstrap, settings.topic_partitions)
        producer = MentionProducer(bootstrap)
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc
    sent = 0

    def sink(mention: Any) -> None:
        nonlocal sent
        producer.send(mention)
        sent += 1
        if rate and sent % 20 == 0:
            producer.flush()

    try:
        stats = run_replay(file, sink, rate=rate, loop=loop, keep_timestamps=keep_timestamps)
        producer.close()
    except TabularFileError as exc:
        raise _fail(str(exc)) from exc
    except (BrokerUnavailable, DeliveryFailed) as exc:
        raise _fail(f"{exc} (sent before the failure: {sent})") from exc
    except KeyboardInterrupt:
        producer.close()
        typer.echo(f"stopped: {sent} mentions sent", err=True)
        return
    typer.echo(f"replayed {stats.read} mentions, skipped {stats.skipped}", err=True)
    for line in stats.errors[:10]:
        typer.echo(f"  skipped {line}", err=True)


@app.command()
def score(
    input: Annotated[Path, typer.Option("--input", "-i", help="JSONL or CSV with `text`, optional `id`")],
    output: Annotated[Path, typer.Option("--output", "-o", help="JSONL to write")],
    batch_size: Annotated[int, typer.Option(help="texts per model call")] = 64,
) -> None:
    """Score a file offline: id, label, negativity, probs, lang per row."""
    from mentiondesk.tabular import TabularFileError
    from sentiment.model import load_model
    from sentiment.offline import score_file

    model = load_model(get_settings())
    try:
        stats = score_file(model, input, output, batch_size=batch_size)
    except TabularFileError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"scored {stats.scored} texts into {output}, skipped {stats.skipped}", err=True)
    for line in stats.errors[:10]:
        typer.echo(f"  skipped {line}", err=True)


class ExportKind(StrEnum):
    mentions = "mentions"
    threads = "threads"


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


def _text_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


@app.command()
def export(
    kind: Annotated[ExportKind, typer.Argument(help="mentions or threads")],
    format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.csv,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file (default: stdout)")] = None,
) -> None:
    """Export mentions or threads from the database."""
    from desk.store.engine import make_engine, make_session_factory, migrate
    from desk.store.repository import iter_mention_rows, iter_thread_rows

    settings = get_settings()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    rows_of = iter_mention_rows if kind is ExportKind.mentions else iter_thread_rows
    handle = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    count = 0
    try:
        with make_session_factory(engine)() as session:
            writer: csv.DictWriter[str] | None = None
            for row in rows_of(session):
                if format is ExportFormat.jsonl:
                    handle.write(json.dumps(row, ensure_ascii=False, default=_text_value) + "\n")
                else:
                    if writer is None:
                        writer = csv.DictWriter(handle, fieldnames=list(row))
                        writer.writeheader()
                    writer.writerow({k: _text_value(v) for k, v in row.items()})
                count += 1
    finally:
        if output:
            handle.close()
        engine.dispose()
    typer.echo(f"exported {count} {kind.value}", err=True)


@model_app.command("build")
def model_build() -> None:
    """Build the encoder into the model cache (once; later calls return at once)."""
    from sentiment.encoder_build import ensure_encoder

    folder = ensure_encoder(get_settings().model_cache_dir)
    typer.echo(f"encoder ready: {folder}")


@model_app.command("train")
def model_train(
    data: Annotated[Path, typer.Option(help="folder of the labelled data sets")] = PROJECT_ROOT.parent
    / "shared"
    / "data",
    seed: int = 0,
) -> None:
    """Retrain the committed head from labelled data, and report its figures."""
    from sentiment.training.train import train_head

    metrics = train_head(
        data, get_settings(), Path(__file__).resolve().parent.parent / "sentiment" / "weights", seed=seed
    )
    typer.echo(json.dumps(metrics, indent=2, default=str))


@model_app.command("eval")
def model_eval(
    data: Annotated[Path, typer.Option(help="folder of the labelled data sets")] = PROJECT_ROOT.parent
    / "shared"
    / "data",
) -> None:
    """Evaluate the model in force on every labelled data set."""
    from sentiment.model import load_model
    from sentiment.training.evaluate import evaluate

    report = evaluate(load_model(get_settings()), data)
    typer.echo(json.dumps(report, indent=2, default=str))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
