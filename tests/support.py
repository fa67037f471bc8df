"""Helpers for tests that run the real pipeline: worker environment, row counts, polling."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from core.db.engine import make_engine
from core.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Settings().data_dir
"""The labelled data sets: the setting `MD_DATA_DIR` (default ../shared/data beside the project)."""
LABELLED_FILES = (
    "rusentitweet/rusentitweet_train.csv",
    "rusentitweet/rusentitweet_test.csv",
    "opensentimentcorpus/opensentimentcorpus-final-by-majority.csv",
    "tweeteval-sentiment/val_text.txt",
    "tweeteval-sentiment/val_labels.txt",
    "twitter-us-airline-sentiment/Tweets.csv",
)
"""The files of `DATA_DIR` that the labelled sets' loaders read (sentiment/training/datasets.py)."""

WorkerStarter = Callable[..., subprocess.Popen[bytes]]


def needs_data(*paths: str) -> pytest.MarkDecorator:
    """Skip unless every one of `paths` (relative to `DATA_DIR`) is there; the reason names the first
    missing one and the setting that points elsewhere."""
    missing = [DATA_DIR / path for path in paths if not (DATA_DIR / path).exists()]
    reason = f"data not found: {missing[0]} (set MD_DATA_DIR to the data folder)" if missing else ""
    return pytest.mark.skipif(bool(missing), reason=reason)


def worker_env(bootstrap: str, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MD_")}
    env.update(
        MD_KAFKA_BOOTSTRAP=bootstrap,
        MD_DATABASE_URL=database_url,
        MD_WORKER_ID=f"md-test-{uuid.uuid4().hex[:8]}",
        MD_BATCH_WINDOW_S="0.2",
        PYTHONUNBUFFERED="1",
    )
    for passed_on in ("MD_MODEL_CACHE_DIR", "MD_MODEL", "MD_DESK_LANGUAGE"):
        if passed_on in os.environ:
            env[passed_on] = os.environ[passed_on]
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`mentiondesk ARGS` in a subprocess with the caller's environment minus its MD_ settings (the
    built encoder's cache, the data folder and the tests' language excepted), plus `env`."""
    kept = ("MD_MODEL_CACHE_DIR", "MD_DATA_DIR", "MD_DESK_LANGUAGE")
    base = {k: v for k, v in os.environ.items() if not k.startswith("MD_") or k in kept}
    return subprocess.run(
        [sys.executable, "-m", "mentiondesk.cli", *args],
        cwd=PROJECT_ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def count_rows(database_url: str, sql: str = "SELECT count(*) FROM mentions") -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    except Exception:
        return 0
    finally:
        engine.dispose()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def mixed_real_tweets(n: int) -> list[str]:
    """`n` real tweets, Russian (RuSentiTweet test) and English (TweetEval validation) alternating."""
    import itertools

    from ingest.replay import read_mentions

    russian = [
        m.text
        for m in itertools.islice(read_mentions(DATA_DIR / "rusentitweet" / "rusentitweet_test.csv"), n // 2)
    ]
    english_file = DATA_DIR / "tweeteval-sentiment" / "val_text.txt"
    english = [t.strip() for t in english_file.read_text("utf-8").splitlines() if t.strip()][
        : n - len(russian)
    ]
    texts = [t for pair in itertools.zip_longest(russian, english) for t in pair if t]
    assert len(texts) == n
    return texts


def read_topic(bootstrap: str, topic: str, want: int | None = None, idle_ms: int = 15_000) -> list[Any]:
    """The records of `topic` from its start, in a fresh consumer group: `want` of them, or all that
    came before `idle_ms` passed without one."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"reader-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        consumer_timeout_ms=idle_ms,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=2_000,
    )
    records: list[Any] = []
    try:
        for record in consumer:
            records.append(record)
            if len(records) == want:
                break
    finally:
        consumer.close()
    return records
