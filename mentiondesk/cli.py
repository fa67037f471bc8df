"""The `mentiondesk` command."""

from __future__ import annotations

import csv
import json
import logging
import os
import signal
import sys
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from core.brands import BrandsConfig
from core.settings import PROJECT_ROOT, Settings, get_settings

app = typer.Typer(help="mentiondesk: social-media monitoring and response desk.", no_args_is_help=True)
model_app = typer.Typer(help="Build, train and evaluate the negativity model.", no_args_is_help=True)
app.add_typer(model_app, name="model")

from mentiondesk.ingest_commands import register as _register_ingest_commands  # noqa: E402

_register_ingest_commands(app)  # collect, collectors status, publisher

from mentiondesk.digest_cli import register as _register_digest_command  # noqa: E402

_register_digest_command(app)  # digest

from mentiondesk.report_cli import register as _register_report_commands  # noqa: E402

_register_report_commands(app)  # report weekly

from mentiondesk.desk_commands import register as _register_desk_commands  # noqa: E402

_register_desk_commands(app)  # users add|list|disable|enable

from mentiondesk.topics_cli import register as _register_topics_commands  # noqa: E402

_register_topics_commands(app)  # topics [list], topics tail

from mentiondesk.notify_cli import register as _register_notify_command  # noqa: E402

_register_notify_command(app)  # notify

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
    from core.notify.redact import mask_setting

    for name, value in get_settings().public_view().items():
        typer.echo(f"MD_{name.upper():<28} {mask_setting(name, value)}")


@app.command()
def up(
    demo: Annotated[
        bool, typer.Option("--demo", help="run the demo stream also when collectors are configured")
    ] = False,
) -> None:
    """Start everything: broker (unless MD_KAFKA_BOOTSTRAP), worker, desk, publisher, the collectors
    of the brands config, and the demo stream when no collector is configured (or with --demo)."""
    from mentiondesk.runtime import Supervisor, refuse_unsafe

    refuse_unsafe(get_settings())  # production: before the broker or any child starts
    _logging()
    for noisy in ("kafka", "alembic"):  # `up` prints its own status lines; details go to var/logs
        logging.getLogger(noisy).setLevel(logging.WARNING)
    raise typer.Exit(Supervisor(get_settings(), demo=demo).run())


@app.command()
def broker(port: Annotated[int | None, typer.Option(help="port on 127.0.0.1")] = None) -> None:
    """Run the embedded Kafka-compatible broker in the foreground."""
    from mentiondesk.broker import BrokerError, EmbeddedBroker

    settings = get_settings()
    server = EmbeddedBroker(port or settings.broker_port)
    # SIGTERM (compose, systemd, `up`) interrupts like Ctrl-C does, from before the start: a signal
    # while the broker starts still stops its child. Stopping the child from inside the handler would
    # deadlock: the handler runs in the main thread, inside Popen.wait(), which holds the lock that
    # stopping needs.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        server.start()
        typer.echo(f"broker listening on {server.bootstrap} (memory storage)")
        server.wait()
    except KeyboardInterrupt:
        pass
    except BrokerError as exc:
        raise _fail(str(exc)) from exc
    finally:
        server.stop()


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    from core.db.engine import migrate as run_migrations

    run_migrations(get_settings().database_url)
    typer.echo("database schema is up to date")


@app.command()
def worker(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """Run the Faust worker: scoring, DLQ, persistence, spike alerts."""
    import functools
    import gc
    from datetime import timedelta

    from core.bus.address import bootstrap_servers
    from core.bus.producer import BrokerUnavailable, ensure_topics
    from core.db.engine import SchemaBehind, make_engine, make_session_factory, require_current_schema
    from desk.services.sync import sync_threads
    from mentiondesk.runtime import refuse_unsafe
    from sentiment.model import load_model
    from sentiment.worker import WorkerDeps, build_worker_app

    settings = get_settings()
    refuse_unsafe(settings)
    try:
        ensure_topics(bootstrap_servers(settings), settings.topic_partitions)
        require_current_schema(settings.database_url)
    except (BrokerUnavailable, SchemaBehind) as exc:
        raise _fail(str(exc)) from exc
    try:
        # Loaded before the worker joins its group: a broken model fails the start loudly instead
        # of crash-looping the agent.
        model = load_model(settings)
    except (OSError, ValueError) as exc:
        raise _fail(f"the negativity model could not be loaded: {exc}") from exc
    inference, runtime = getattr(model, "inference", "torch"), getattr(model, "runtime", "transformers")
    typer.echo(f"model {model.version}: {inference} inference ({runtime})", err=True)
    deps = WorkerDeps(
        settings=settings,
        model=model,
        sessions=make_session_factory(make_engine(settings.database_url)),
        brands=_brands_for_worker(settings),
        # new threads get their desk row, owner and clocks; owners and managers their notices
        after_save=functools.partial(
            sync_threads, notify_before=timedelta(minutes=settings.notify_before_due_min)
        ),
    )
    from faust.worker import Worker

    app_ = build_worker_app(deps)
    # The model and the libraries live as long as the worker: frozen out of the garbage collector's
    # reach, a full collection no longer walks their ~480,000 objects (a 0.3 s pause of every thread,
    # scoring and the event loop alike, each time the worker's churn triggered one).
    gc.freeze()
    typer.echo(f"{gc.get_freeze_count()} startup objects kept out of the garbage collector", err=True)
    Worker(app_, loglevel="debug" if verbose else "info").execute_from_commandline()


def _brands_for_worker(settings: Settings) -> BrandsConfig | None:
    """The brands config (topic dictionaries, alert sensitivity); a broken one is not the scorer's
    business (the collectors refuse it loudly): logged, and the worker runs without it."""
    from core.brands import ConfigError, load_config

    if settings.config is None:
        return None
    try:
        return load_config(settings.config)
    except ConfigError as exc:
        logging.getLogger("mentiondesk.worker").error("brands config not loaded: %s", exc)
        return None


@app.command()
def desk() -> None:
    """Run the Streamlit desk alone."""
    from core.db.engine import make_engine, make_session_factory
    from core.db.engine import migrate as run_migrations
    from desk.services.bootstrap import NoUsers, ensure_first_user
    from mentiondesk.runtime import desk_command, refuse_unsafe

    settings = get_settings()
    refuse_unsafe(settings)
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
    *,
    rate: Annotated[
        float | None, typer.Option(help="mentions per second (default: as fast as possible)")
    ] = None,
    loop: Annotated[bool, typer.Option(help="stream the file over and over, each round new ids")] = False,
    keep_timestamps: Annotated[bool, typer.Option(help="keep `created_at` instead of now")] = False,
    history_days: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="first lay the file over the N days before today (MD_DIGEST_TIMEZONE), mostly in "
            "working hours, at once; then --loop streams it live at --rate",
        ),
    ] = None,
    burst_ids: Annotated[
        Path | None,
        typer.Option(
            help="ids (one a line) of thread starters the history puts into one 15-minute window, "
            "a spike (default for the shipped sample: mentiondesk/demo/burst_ids.txt)"
        ),
    ] = None,
) -> None:
    """Replay a file of mentions into the pipeline."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from core.bus.address import bootstrap_servers
    from core.bus.producer import BrokerUnavailable, DeliveryFailed, MentionProducer, ensure_topics
    from core.tabular import TabularFileError
    from ingest.history import HistoryShape, burst_window
    from ingest.replay import read_burst_ids
    from ingest.replay import replay as run_replay

    _logging()
    settings = get_settings()
    history: HistoryShape | None = None
    burst: set[str] = set()
    if history_days is not None:
        if keep_timestamps:
            raise _fail("--history-days sets the times itself: leave out --keep-timestamps")
        try:
            zone = ZoneInfo(settings.digest_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise _fail(f"MD_DIGEST_TIMEZONE: unknown time zone {settings.digest_zone!r}") from exc
        history = HistoryShape(days=history_days, tz=zone)
        if burst_ids is None and file.resolve() == DEMO_FILE.resolve():
            burst_ids = DEMO_FILE.with_name("burst_ids.txt")
        try:
            burst = read_burst_ids(burst_ids) if burst_ids is not None else set()
        except OSError as exc:
            raise _fail(f"cannot read --burst-ids {burst_ids}: {exc.strerror}") from exc
        start, _ = burst_window(datetime.now(UTC), history)
        typer.echo(
            f"history: {file.name} over the {history_days} days before today ({settings.digest_zone})"
            + (f", a burst of up to {len(burst)} at {start.isoformat(timespec='minutes')}" if burst else ""),
            err=True,
        )
    elif burst_ids is not None:
        raise _fail("--burst-ids needs --history-days")
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
        stats = run_replay(
            file,
            sink,
            rate=rate,
            loop=loop,
            keep_timestamps=keep_timestamps,
            history=history,
            burst_ids=burst,
        )
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
    from core.tabular import TabularFileError
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
    corrections = "corrections"


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
    kind: Annotated[ExportKind, typer.Argument(help="mentions, threads or corrections (agents' labels)")],
    format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.csv,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="file (default: stdout)")] = None,
) -> None:
    """Export mentions, threads or the agents' label corrections from the database."""
    from core.db.engine import make_engine, make_session_factory, migrate
    from core.db.repository import iter_mention_rows, iter_thread_rows
    from desk.services.corrections import correction_rows
    from desk.services.desk_time import desk_zone
    from desk.services.export import local_times, safe_row

    settings = get_settings()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    handle = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    count = 0
    try:
        with make_session_factory(engine)() as session:
            writer: csv.DictWriter[str] | None = None
            zone = desk_zone(session)  # times with the desk zone's offset (MD_DESK_TIMEZONE)
            rows: Iterable[Mapping[str, object]]
            if kind is ExportKind.mentions:
                rows = iter_mention_rows(session, zone=zone)
            elif kind is ExportKind.threads:
                rows = iter_thread_rows(session, zone=zone)
            else:
                rows = (local_times(r, zone) for r in correction_rows(session))
            for row in rows:
                if format is ExportFormat.jsonl:
                    handle.write(json.dumps(row, ensure_ascii=False, default=_text_value) + "\n")
                else:
                    if writer is None:
                        writer = csv.DictWriter(handle, fieldnames=list(row))
                        writer.writeheader()
                    writer.writerow(safe_row({k: _text_value(v) for k, v in row.items()}))
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


@model_app.command("export")
def model_export() -> None:
    """Make the fast path's form of the model in force, once per model version (MD_FAST_RUNTIME):
    on OpenVINO, the model in MD_FAST_PRECISION (int8 calibrated on its dev part, which reads
    MD_DATA_DIR, or fp32; with `auto`, fp32 where int8 cannot be calibrated, as the worker would);
    on ONNX Runtime, its distilled student when it has one, else the whole encoder."""
    from sentiment.training.fingerprints import DataMismatch

    settings = get_settings()
    try:
        typer.echo(_make_fast_form(settings))
    except (DataMismatch, FileNotFoundError) as exc:
        int8 = settings.fast_precision == "int8"
        what = "calibrate the int8 model" if int8 else "make the fast path's model"
        raise _fail(f"cannot {what}: {exc}") from exc


def _make_fast_form(settings: Settings) -> str:
    """Build (or find) the fast path's form of the model in force; the line that says where it is."""
    from sentiment.model import Head, active_model_file, builtin_version, fast_path_file
    from sentiment.onnx_export import ensure_export
    from sentiment.openvino_export import ensure_openvino, ensure_served

    if settings.fast_runtime == "openvino":
        path = active_model_file(settings)
        version = builtin_version(path, Head.load(path))
        if settings.fast_precision == "auto":  # what the worker serves: fp32 where int8 cannot be made
            export = ensure_served(settings, path, version)
        else:
            export = ensure_openvino(settings, path, version, settings.fast_precision)
    else:
        path = fast_path_file(active_model_file(settings))
        export = ensure_export(settings, path, builtin_version(path, Head.load(path)))
    return (
        f"fast path ready ({settings.fast_runtime}, {export.precision}, {export.model_version}): "
        f"{export.folder}"
    )


WEIGHTS_DIR = PROJECT_ROOT / "sentiment" / "weights"
TRAIN_EPOCHS = 3
"""`model train`'s default passes, those of the shipped model (`sentiment.training.finetune.EPOCHS`)."""
DISTILL_EPOCHS = 2
"""`model distill`'s default passes, those of the shipped student (`sentiment.training.distill.EPOCHS`)."""


class DistillShape(StrEnum):
    """`sentiment.training.distill.SHAPES`, named here so `--help` needs no torch import."""

    narrow = "narrow"
    shallow = "shallow"


DISTILL_SHAPE = DistillShape.narrow
DISTILL_RANK = 56
"""`model distill`'s default delta rank (`sentiment.training.distill.COMPRESS_RANK`)."""
DataDir = Annotated[
    Path | None, typer.Option("--data", help="folder of the labelled data sets (default: MD_DATA_DIR)")
]


@model_app.command("train")
def model_train(
    data: DataDir = None,
    seed: int = 0,
    epochs: Annotated[int, typer.Option(min=1, help="passes over the training rows")] = TRAIN_EPOCHS,
    output: Annotated[Path, typer.Option(help="folder for model.safetensors and metrics.json")] = WEIGHTS_DIR,
    limit: Annotated[
        int | None, typer.Option(min=1, help="train on this many rows only (a quick check)")
    ] = None,
) -> None:
    """Fine-tune the encoder (LoRA) and head from labelled data, calibrate, and report the figures."""
    from sentiment.training.finetune import finetune

    settings = get_settings()
    metrics = finetune(data or settings.data_dir, settings, output, seed=seed, epochs=epochs, limit=limit)
    typer.echo(json.dumps(metrics, indent=2, default=str))


@model_app.command("distill")
def model_distill(
    *,
    data: DataDir = None,
    model: Annotated[
        Path | None, typer.Option(help="the model file to distil (default: the model in force)")
    ] = None,
    seed: int = 0,
    epochs: Annotated[int, typer.Option(min=1, help="passes over the texts")] = DISTILL_EPOCHS,
    output: Annotated[
        Path | None, typer.Option(help="folder for fast.safetensors (default: beside the model file)")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="distil on this many texts only (a quick check)")
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="go on from the kept student of stages 1 and 2, if any (stage 3 only)")
    ] = False,
    shape: Annotated[
        DistillShape,
        typer.Option(help="narrow: every layer, half its heads and units; shallow: half the layers, whole"),
    ] = DISTILL_SHAPE,
    rank: Annotated[int, typer.Option(min=1, help="rank of each stored layer's delta")] = DISTILL_RANK,
) -> None:
    """Distil a model into the fast path's student (half the encoder), calibrate it, report the figures."""
    from sentiment.model import active_model_file
    from sentiment.training.distill import SHAPES, distill
    from sentiment.training.fingerprints import DataMismatch

    settings = get_settings()
    path = model or active_model_file(settings)
    if not path.is_file():
        raise typer.BadParameter(f"no model file at {path}", param_hint="--model")
    try:
        metrics = distill(
            data or settings.data_dir,
            settings,
            path,
            output or path.parent,
            shape=SHAPES[shape.value],
            epochs=epochs,
            seed=seed,
            limit=limit,
            resume=resume,
            rank=rank,
        )
    except (DataMismatch, FileNotFoundError) as exc:
        raise _fail(str(exc)) from exc
    typer.echo(json.dumps(metrics, indent=2, default=str))


@model_app.command("calibrate")
def model_calibrate(
    data: DataDir = None,
    model: Annotated[Path, typer.Option(help="the model file to calibrate in place")] = WEIGHTS_DIR
    / "model.safetensors",
) -> None:
    """Refit a trained model's calibration and thresholds on its dev part, and report the figures."""
    from sentiment.training.finetune import recalibrate
    from sentiment.training.fingerprints import DataMismatch

    if not model.is_file():
        raise typer.BadParameter(f"no model file at {model}", param_hint="--model")
    settings = get_settings()
    try:
        metrics = recalibrate(data or settings.data_dir, settings, model)
    except (DataMismatch, FileNotFoundError) as exc:
        raise _fail(str(exc)) from exc
    typer.echo(json.dumps(metrics, indent=2, default=str))


@model_app.command("retrain")
def model_retrain(
    data: DataDir = None,
    corrections: Annotated[
        Path | None,
        typer.Option(help="a `mentiondesk export corrections` file (default: read them from the database)"),
    ] = None,
    tolerance: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="largest drop of a validation figure still accepted (larger ones count if beyond chance)",
        ),
    ] = 0.01,
    replay: Annotated[
        int,
        typer.Option(min=0, help="training rows replayed beside the corrections, so nothing else is lost"),
    ] = 3000,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="compare, but do not switch")] = False,
) -> None:
    """Fold the agents' label corrections into the model; switch to it only when it is not worse."""
    from sentiment.training.retrain import read_corrections, retrain

    settings = get_settings()
    if corrections is not None:
        try:
            examples = read_corrections(corrections)
        except (OSError, ValueError) as exc:
            raise _fail(str(exc)) from exc
    else:
        from core.db.engine import make_engine, make_session_factory, migrate
        from desk.services.corrections import training_examples

        migrate(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            with make_session_factory(engine)() as session:
                examples = training_examples(session)
        finally:
            engine.dispose()
    if not examples:
        raise _fail("no corrections yet: agents correct labels on the desk's thread page")
    try:
        result = retrain(
            data or settings.data_dir, settings, examples, tolerance=tolerance, replay=replay, dry_run=dry_run
        )
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from exc
    report = result.report
    typer.echo(f"{len(examples)} corrections; old {result.old_version}, new {result.new_version}")
    for part, role in (
        (report["decided_on"]["part"], "decides"),
        (report["reported"]["part"], "reported only"),
    ):
        typer.echo(f"\n| {part} part ({role}) | n | macro-F1 old -> new | F1 negative old -> new |")
        typer.echo("|---|---|---|---|")
        for name, row in report[part].items():
            old, new = row["old"], row["new"]
            typer.echo(
                f"| {name} | {old['n']} | {old['macro_f1']:.3f} -> {new['macro_f1']:.3f} "
                f"| {old['negative_f1']:.3f} -> {new['negative_f1']:.3f} |"
            )
    typer.echo("")
    fixes = report["corrections"]
    typer.echo(
        f"corrected labels the model now gives: {fixes['old_agrees']} -> {fixes['new_agrees']} "
        f"of {fixes['n']} ({fixes['learned_by_weights']} learned by the weights, "
        "the rest held in the correction memory)"
    )
    if result.switched:
        typer.echo(f"switched to {result.new_version}; restart the workers to score with it")
        _prepare_for_workers(settings if data is None else settings.model_copy(update={"data_dir": data}))
    elif report["accepted"]:
        typer.echo(f"not switched (--dry-run); the candidate is in {result.model_file.parent}")
    else:
        fell = "; ".join(
            f"{name} {key} {report['validation'][name]['change'][key]:+.3f} "
            f"(z {report['validation'][name]['paired'][key]['z']:.2f})"
            for name, keys in report["blocking"].items()
            for key in keys
        )
        typer.echo(
            f"kept {result.old_version}: validation figures fell by more than {tolerance} and more "
            f"than chance (McNemar z >= {report['significance_z']}): {fell}; "
            f"the candidate is in {result.model_file.parent}"
        )


def _prepare_for_workers(settings: Settings) -> None:
    """After a switch, the new model's fast form when the workers serve the fast path (`resolve_inference`),
    made now rather than on a worker's first load (int8 calibration: about 45 s, and it reads the
    data); a failure is reported and leaves the switch in place (the worker then makes what it can)."""
    from sentiment.model import resolve_inference

    if resolve_inference(settings) != "fast":
        return
    try:
        typer.echo(_make_fast_form(settings))
    except Exception as exc:  # the switch stands; the worker falls back on load (README)
        typer.secho(
            f"warning: the fast path's model is not made ({type(exc).__name__}: {exc}); "
            "each worker tries on its first load",
            fg=typer.colors.YELLOW,
            err=True,
        )


@model_app.command("rollback")
def model_rollback() -> None:
    """Go back to the model shipped in the repository (undo every retrain's switch)."""
    from sentiment.registry import ModelRegistry

    ModelRegistry(get_settings().model_dir).activate_committed()
    typer.echo("the committed model is in force again; restart the workers to score with it")


EvalOutput = Annotated[
    Path | None, typer.Option("--output", help="report folder (default: var/eval/<model version>/)")
]
EvalSets = Annotated[
    list[str] | None,
    typer.Option("--sets", help="data sets to evaluate (repeat or comma-separate; default: all)"),
]


Inference = Annotated[
    str | None,
    typer.Option("--inference", help="fast | torch: the path to score with (default: MD_INFERENCE)"),
]


def _check_eval_data(settings: Settings, data: Path, names: list[str] | None) -> None:
    """Refuse (exit 1, nothing written) test parts that are not those the model in force records;
    cheap, so it runs before the model loads. A model without recorded fingerprints gets a warning."""
    from sentiment.model import Head, active_model_file
    from sentiment.training.datasets import load_benchmarks
    from sentiment.training.finetune import verify_data

    path = active_model_file(settings)
    if not path.is_file():
        return  # loading the model says what is missing
    try:
        benches = load_benchmarks(data, names)
        meta = Head.load(path).meta
        warning = verify_data(meta, benches, model_file=path, data_dir=data, parts=("test",))
    except (ValueError, FileNotFoundError) as exc:  # fingerprints.DataMismatch is a ValueError
        raise _fail(str(exc)) from exc
    if warning:
        typer.echo(warning, err=True)


def _run_eval(
    data: Path | None, output: Path | None, sets: list[str] | None, inference: str | None = None
) -> None:
    from datetime import UTC, datetime

    from core.settings import DEFAULT_VAR_DIR
    from sentiment.model import load_model
    from sentiment.training.datasets import BENCHMARKS
    from sentiment.training.evaluate import evaluate, format_confusion, format_table, report_document
    from sentiment.training.reliability import write_charts

    names = [n.strip() for item in sets for n in item.split(",") if n.strip()] if sets else None
    unknown = [n for n in names or [] if n not in BENCHMARKS]
    if unknown:  # before loading the model, which takes a while
        raise _fail(f"unknown data sets {unknown}; known: {', '.join(BENCHMARKS)}")
    if inference not in (None, "fast", "torch"):
        raise typer.BadParameter(f"{inference!r}: expected fast or torch", param_hint="--inference")
    settings = get_settings()
    if inference is not None:
        settings = settings.model_copy(update={"inference": inference})
    data = data or settings.data_dir
    if not settings.model:  # the built-in model records the data it was made with
        _check_eval_data(settings, data, names)
    model = load_model(settings)
    try:
        report = evaluate(model, data, names)
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from exc
    measured_at = datetime.now(UTC).isoformat(timespec="seconds")
    folder = output or DEFAULT_VAR_DIR / "eval" / model.version
    charts = write_charts(report, folder)
    document = report_document(report, model.version, measured_at, data, charts)
    (folder / "report.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    inference_path = getattr(model, "inference", "torch")
    typer.echo(f"model {model.version} ({inference_path} inference), measured {measured_at}\n")
    typer.echo(format_table(report))
    typer.echo("\nECE: calibration error of negativity read as P(negative), 10 equal-width bins.")
    for row in report:
        typer.echo("\n" + format_confusion(row))
    typer.echo(f"\nreport: {folder / 'report.json'}; reliability charts: {len(charts)} PNG in {folder}")


@app.command("eval")
def eval_command(
    data: DataDir = None, output: EvalOutput = None, sets: EvalSets = None, inference: Inference = None
) -> None:
    """Evaluate the model in force: figures per data set and language, report.json and reliability PNGs."""
    _run_eval(data, output, sets, inference)


@model_app.command("eval")
def model_eval(
    data: DataDir = None, output: EvalOutput = None, sets: EvalSets = None, inference: Inference = None
) -> None:
    """Evaluate the model in force (the same as `mentiondesk eval`)."""
    _run_eval(data, output, sets, inference)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
