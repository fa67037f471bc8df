"""A replayed real stream through the real broker and worker: a burst of negative mentions raises
exactly one alert in its window (stored, posted to a webhook, mailed); the same stream without the
burst, under another brand, raises none."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core.bus.producer import MentionProducer, ensure_topics
from core.db.engine import make_engine, make_session_factory
from core.db.models import Mention as MentionRow
from core.db.models_analytics import AlertRow
from ingest.replay import read_mentions
from mentiondesk.broker import EmbeddedBroker
from schemas import Alert, Author, Mention
from tests.mail_support import smtp_server, webhook_server
from tests.support import DATA_DIR, WorkerStarter, count_rows, needs_data, wait_until, worker_env

pytestmark = pytest.mark.pipeline

TWCS = DATA_DIR / "twcs-sample" / "twcs.csv"
AIRLINE = DATA_DIR / "twitter-us-airline-sentiment" / "Tweets.csv"
DAY_FROM = datetime(2017, 10, 31, 14, 0, tzinfo=UTC)
DAY_TO = datetime(2017, 10, 31, 22, 0, tzinfo=UTC)
PER_WINDOW = 6
BURST_AT = datetime(2017, 10, 31, 20, 3, tzinfo=UTC)
BURST_SIZE = 40


def write_replay_file(path: Path) -> None:
    """Customer tweets of 31 Oct 2017 (twcs, real timestamps), at most PER_WINDOW a quarter hour, as
    a replay file with `created_at` (what `mentiondesk replay --keep-timestamps` reads)."""
    per_window: dict[datetime, int] = defaultdict(int)
    rows = []
    with TWCS.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("inbound") != "True" or not row.get("created_at"):
                continue
            at = datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
            if not DAY_FROM <= at < DAY_TO:
                continue
            window = at.replace(minute=at.minute // 15 * 15, second=0)
            if per_window[window] >= PER_WINDOW:
                continue
            per_window[window] += 1
            rows.append({"id": row["tweet_id"], "text": row["text"], "created_at": at.isoformat()})
    rows.sort(key=lambda r: r["created_at"])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "text", "created_at", "source", "author"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "source": "twitter", "author": f"c{row['id']}"})


def stored_negative(url: str, external_ids: set[str]) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(select(MentionRow.external_id, MentionRow.label))
            return sum(
                1 for external_id, label in rows if external_id in external_ids and label == "negative"
            )
    finally:
        engine.dispose()


def burst_mentions() -> list[Mention]:
    """Real complaints (airline tweets labelled negative with full confidence), seven minutes long."""
    texts = []
    with AIRLINE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["airline_sentiment"] == "negative" and row["airline_sentiment_confidence"] == "1":
                texts.append(row["text"])
            if len(texts) == BURST_SIZE:
                break
    return [
        Mention(
            source="twitter",
            external_id=f"burst-{i}",
            thread_key=f"twitter:burst-{i}",
            author=Author(id=f"angry{i}"),
            text=text,
            created_at=BURST_AT + timedelta(seconds=i * 17),
            brand="acme",
        )
        for i, text in enumerate(texts)
    ]


@needs_data("twcs-sample/twcs.csv", "twitter-us-airline-sentiment/Tweets.csv")
def test_a_burst_in_a_replayed_day_raises_one_alert_delivered_everywhere(
    broker: EmbeddedBroker, start_worker: WorkerStarter, sqlite_url: str, tmp_path: Path
) -> None:
    replay_file = tmp_path / "day.csv"
    write_replay_file(replay_file)
    day = list(read_mentions(replay_file, keep_timestamps=True))
    assert 150 < len(day) < 250
    acme = [m.model_copy(update={"brand": "acme", "external_id": f"a{m.external_id}"}) for m in day]
    globex = [m.model_copy(update={"brand": "globex", "external_id": f"g{m.external_id}"}) for m in day]
    burst = burst_mentions()
    stream = sorted(acme + globex + burst, key=lambda m: m.created_at)

    config = tmp_path / "brands.toml"
    config.write_text(
        '[[brands]]\nname = "acme"\n[brands.alerts]\nk = 2.5\nmin_count = 5\n\n'
        '[[brands]]\nname = "globex"\n[brands.alerts]\nk = 2.5\nmin_count = 5\n',
        encoding="utf-8",
    )
    ensure_topics(broker.bootstrap, partitions=4)
    with MentionProducer(broker.bootstrap) as producer:
        producer.send_all(stream)

    with smtp_server() as (smtp_port, inbox), webhook_server() as (hook_url, posts):
        env = worker_env(
            broker.bootstrap,
            sqlite_url,
            MD_CONFIG=str(config),
            MD_ALERT_WEBHOOK_URL=hook_url,
            MD_SMTP_HOST="127.0.0.1",
            MD_SMTP_PORT=str(smtp_port),
            MD_ALERT_EMAIL_TO="managers@example.test",
        )
        worker = start_worker(env)
        assert wait_until(lambda: count_rows(sqlite_url) >= len(stream), timeout=400), (
            f"only {count_rows(sqlite_url)} of {len(stream)} mentions landed"
        )
        assert wait_until(lambda: count_rows(sqlite_url, "SELECT count(*) FROM alerts") >= 1, timeout=60)
        assert wait_until(lambda: len(posts) >= 1 and len(inbox.messages) >= 1, timeout=30)
        wait_until(lambda: False, timeout=5)  # anything more would come now

        engine = make_engine(sqlite_url)
        try:
            with make_session_factory(engine)() as session:
                rows = list(session.scalars(select(AlertRow)))
        finally:
            engine.dispose()
        assert len(rows) == 1, [(r.brand, r.window_start, r.negative_share) for r in rows]
        alert = Alert.model_validate(rows[0].payload)
        assert alert.brand == "acme"
        assert alert.window_start == datetime(2017, 10, 31, 20, 0, tzinfo=UTC)
        burst_ids = {f"twitter:{m.external_id}" for m in burst}
        assert set(alert.sample_mention_ids) & burst_ids
        assert alert.negative_share > alert.baseline_share
        # Every acme mention of the window is counted, whichever partition was fetched first, and
        # the baseline holds every quarter hour since 14:00.
        in_window = [m for m in acme + burst if alert.window_start <= m.created_at < alert.window_end]
        assert alert.total_count == len(in_window)
        assert alert.negative_count == stored_negative(sqlite_url, {m.external_id for m in in_window})
        assert alert.baseline_windows == 24
        assert "not counted" not in (tmp_path / "worker-0.log").read_text(encoding="utf-8")
        assert rows[0].webhook_status == "sent 200" and rows[0].email_status == "sent"

        assert len(posts) == 1 and posts[0]["alert"]["alert_id"] == alert.alert_id
        assert "Negativity spike: acme" in posts[0]["text"]
        assert len(inbox.messages) == 1
        assert "acme" in str(inbox.messages[0]["Subject"])
        assert inbox.envelopes[0][1] == ["managers@example.test"]

        # Restarted, the worker rebuilds its baselines from every mention stored before it started,
        # and raises the spike it already raised no second time.
        worker.terminate()
        worker.wait(60)
        start_worker(env)
        again = tmp_path / "worker-1.log"
        assert wait_until(lambda: "spike baselines rebuilt" in again.read_text(encoding="utf-8"), timeout=120)
        assert f"rebuilt from {len(stream)} stored mentions" in again.read_text(encoding="utf-8")
        wait_until(lambda: False, timeout=12)  # past the idle flush's 10 s
        assert count_rows(sqlite_url, "SELECT count(*) FROM alerts") == 1
        assert len(posts) == 1 and len(inbox.messages) == 1
