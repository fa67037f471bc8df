"""The command line as users run it: offline scoring, export, and clear errors."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest

from core.db.engine import make_engine, make_session_factory, migrate
from core.db.repository import persist_batch
from mentiondesk.broker import EmbeddedBroker, free_port
from tests.factories import conversation
from tests.support import run_cli


def test_score_writes_one_scored_line_per_text(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerow(["r1", "Ужасный сервис, третий день не могу дозвониться, верните деньги!"])
        writer.writerow(["r2", "Thank you so much, the support team fixed everything in minutes!"])
        writer.writerow(["r3", ""])
        writer.writerow(["r4", "Заказ пришёл,\nвсё отлично, спасибо"])
    out = tmp_path / "out.jsonl"

    result = run_cli("score", "--input", str(source), "--output", str(out))

    assert result.returncode == 0, result.stderr
    rows = {row["id"]: row for row in map(json.loads, out.read_text("utf-8").splitlines())}
    assert set(rows) == {"r1", "r2", "r4"}, "the empty text is skipped, not scored"
    assert "skipped 1" in result.stderr and "r3" in result.stderr
    for row in rows.values():
        assert row["label"] in {"negative", "neutral", "positive"}
        assert 0 <= row["negativity"] <= 1
        assert abs(sum(row["probs"].values()) - 1) < 1e-3
        assert row["negativity"] == row["probs"]["negative"]
    assert rows["r1"]["label"] == "negative" and rows["r1"]["lang"] == "ru"
    assert rows["r2"]["label"] == "positive" and rows["r2"]["lang"] == "en"
    assert rows["r1"]["negativity"] > rows["r4"]["negativity"]


def test_export_mentions_and_threads_in_both_formats(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/desk.db"
    migrate(database_url)
    engine = make_engine(database_url)
    mentions = conversation(n_threads=3, replies_per_thread=2)
    persist_batch(make_session_factory(engine), mentions)
    engine.dispose()
    env = {"MD_DATABASE_URL": database_url}

    csv_out = tmp_path / "mentions.csv"
    result = run_cli("export", "mentions", "--format", "csv", "--output", str(csv_out), env=env)
    assert result.returncode == 0, result.stderr
    with csv_out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(mentions)
    required = {"source", "external_id", "thread_key", "created_at", "text", "lang", "label", "negativity"}
    assert required <= set(rows[0])
    assert {r["external_id"] for r in rows} == {m.external_id for m in mentions}
    # times in the desk's zone (Moscow by default) with its offset: the same instants as stored
    created = {m.external_id: m.created_at for m in mentions}
    assert all(r["created_at"].endswith("+03:00") for r in rows)
    assert all(datetime.fromisoformat(r["created_at"]) == created[r["external_id"]] for r in rows)

    result = run_cli("export", "threads", "--format", "jsonl", env=env)
    assert result.returncode == 0, result.stderr
    threads = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(t["thread_key"] for t in threads) == sorted({m.thread_key for m in mentions})
    assert all(t["message_count"] == 3 for t in threads)


def test_replay_without_a_broker_fails_clearly(tmp_path: Path) -> None:
    source = tmp_path / "m.jsonl"
    source.write_text(json.dumps({"text": "hello"}) + "\n", "utf-8")
    port = free_port()
    result = run_cli("replay", str(source), env={"MD_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}"})
    assert result.returncode == 1
    assert f"no Kafka broker at 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_worker_without_a_broker_fails_clearly(tmp_path: Path) -> None:
    port = free_port()
    result = run_cli(
        "worker",
        env={"MD_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}", "MD_DATABASE_URL": f"sqlite:///{tmp_path}/d.db"},
    )
    assert result.returncode == 1
    assert f"no Kafka broker at 127.0.0.1:{port}" in result.stderr


@pytest.mark.parametrize("command", ["worker", "publisher", "collect"])
def test_processes_that_only_write_rows_refuse_a_database_behind_its_schema(
    broker: EmbeddedBroker, tmp_path: Path, command: str
) -> None:
    config = tmp_path / "brands.toml"
    config.write_text('[[brands]]\nname = "acme"\n', "utf-8")
    env = {
        "MD_KAFKA_BOOTSTRAP": broker.bootstrap,
        "MD_DATABASE_URL": f"sqlite:///{tmp_path}/never-migrated.db",
        "MD_CONFIG": str(config),
    }
    result = run_cli(command, env=env, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "run `mentiondesk migrate` first" in result.stderr
    assert "Traceback" not in result.stderr
