"""Helpers for the collector and publisher tests: brands config, process env, reading topics."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from core.bus.inspect import log_ends
from core.db.engine import migrate
from schemas import Mention
from tests.support import PROJECT_ROOT, worker_env

BRANDS = {"acme": 1001, "globex": 1002, "initech": 1003}
TWITTER_ACCOUNTS = {"acme": "101", "globex": "102", "initech": "103"}


def write_config(path: Path) -> Path:
    brands = [
        {
            "name": name,
            "queries": [name],
            "keywords": [name],
            "vk": {"communities": [group]},
            "twitter": {"handles": [name]},
        }
        for name, group in BRANDS.items()
    ]
    lines = []
    for brand in brands:
        lines += [
            "[[brands]]",
            f'name = "{brand["name"]}"',
            f"queries = {json.dumps(brand['queries'])}",
            f"vk = {{ communities = {brand['vk']['communities']} }}",  # type: ignore[index]
            f'twitter = {{ handles = ["{brand["name"]}"] }}',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def collect_env(bootstrap: str, database_url: str, config: Path, **extra: str) -> dict[str, str]:
    return worker_env(
        bootstrap,
        database_url,
        MD_CONFIG=str(config),
        MD_VK_RPS_DELAY="0",
        MD_POLL_INTERVAL_S="3600",
        **extra,
    )


def start_cli(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """`mentiondesk ARGS` in the background, after `mentiondesk migrate` on its database (collectors,
    the publisher and workers refuse a database whose schema is behind)."""
    if "MD_DATABASE_URL" in env:
        migrate(env["MD_DATABASE_URL"])
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "mentiondesk.cli", *args],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def read_topic(bootstrap: str, topic: str, timeout_s: float = 60.0) -> list[bytes]:
    """Every message of `topic` from the beginning to its current end (no consumer group)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_bytes=500_000,
        max_partition_fetch_bytes=250_000,
    )
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        end = log_ends(consumer, partitions, timeout_s)  # not end_offsets: see core.bus.inspect
        consumer.seek_to_beginning(*partitions)
        values: list[bytes] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in partitions) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                values.extend(r.value for r in records)
        return values
    finally:
        consumer.close()


def read_mentions(bootstrap: str) -> list[Mention]:
    return [Mention.model_validate_json(v) for v in read_topic(bootstrap, "mentions.raw.v1")]


__all__ = [
    "BRANDS",
    "PROJECT_ROOT",
    "TWITTER_ACCOUNTS",
    "collect_env",
    "read_mentions",
    "read_topic",
    "start_cli",
    "write_config",
]
