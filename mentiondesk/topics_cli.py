"""`mentiondesk topics [list]` and `mentiondesk topics tail TOPIC` (registered in mentiondesk.cli).

The broker is the one the settings point at (MD_KAFKA_BOOTSTRAP, else the embedded one on
MD_BROKER_PORT). kafka-python does the reading (core/bus/inspect.py): librdkafka tools such as kcat
cannot talk to the embedded broker.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer

from core.settings import get_settings

topics_app = typer.Typer(
    help="Look into the Kafka topics: partitions and offsets, messages decoded.",
    invoke_without_command=True,
)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def _bootstrap() -> str:
    from core.bus.address import bootstrap_servers

    return bootstrap_servers(get_settings())


@topics_app.callback()
def topics(ctx: typer.Context) -> None:
    """Every topic with its partitions and their earliest and latest offsets (`topics list`)."""
    if ctx.invoked_subcommand is None:
        list_command()


@topics_app.command("list")
def list_command() -> None:
    """Every topic with its partitions and their earliest and latest offsets."""
    from core.bus.inspect import list_topics
    from core.bus.producer import BrokerUnavailable

    bootstrap = _bootstrap()
    try:
        found = list_topics(bootstrap)
    except BrokerUnavailable as exc:
        raise _fail(str(exc)) from exc
    if not found:
        typer.echo(f"no topics on {bootstrap}")
        return
    width = max(len("TOPIC"), *(len(t.name) for t in found))
    typer.echo(f"{'TOPIC':<{width}}  PARTITION  EARLIEST     LATEST   MESSAGES")
    for topic in found:
        for p in topic.partitions:
            typer.echo(
                f"{topic.name:<{width}}  {p.partition:>9}  {p.earliest:>8}  {p.latest:>9}  {p.messages:>9}"
            )
    partitions = sum(len(t.partitions) for t in found)
    messages = sum(t.messages for t in found)
    typer.echo(f"{len(found)} topics, {partitions} partitions, {messages} messages on {bootstrap}")


def _line(message: dict[str, object]) -> str:
    line = json.dumps(message, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON \\ud800 escape: keep it escaped
        line = json.dumps(message)
    return line


@topics_app.command("tail")
def tail(
    topic: Annotated[str, typer.Argument(metavar="TOPIC", help="topic name, e.g. mentions.raw.v1")],
    *,
    from_offset: Annotated[
        int | None,
        typer.Option("--from-offset", min=0, help="start at this offset (in every partition read)"),
    ] = None,
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="start at the earliest offset (the default)")
    ] = False,
    partition: Annotated[
        int | None, typer.Option("--partition", "-p", min=0, help="read this partition only")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="stop after N messages")] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="keep waiting for new messages (Ctrl-C stops)")
    ] = False,
) -> None:
    """Print a topic's messages decoded, one JSON object a line.

    Each line has topic, partition, offset, timestamp, key and the value: `value` when the payload is
    JSON, else `text` (invalid UTF-8 bytes shown as \\xNN). Without --follow it stops at the end the
    topic had when it started."""
    from core.bus.inspect import NoSuchTopic, read_messages
    from core.bus.producer import BrokerUnavailable

    if from_beginning and from_offset is not None:
        raise typer.BadParameter("give --from-offset or --from-beginning, not both")
    messages = read_messages(
        _bootstrap(), topic, partition=partition, from_offset=from_offset, limit=limit, follow=follow
    )
    try:
        for message in messages:
            typer.echo(_line(message.as_dict()))
    except (BrokerUnavailable, NoSuchTopic) as exc:
        raise _fail(str(exc)) from exc
    except KeyboardInterrupt:
        return
    except BrokenPipeError:  # `| head`: the reader has seen enough
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return
    finally:
        messages.close()


def register(app: typer.Typer) -> None:
    app.add_typer(topics_app, name="topics")
