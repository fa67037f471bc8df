import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.tabular import TabularFileError
from ingest.replay import ReplayStats, read_mentions, replay

FIXED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _clock() -> datetime:
    return FIXED


def test_jsonl_rows_become_mentions_with_threads_and_a_report_of_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    rows = [
        {"id": "p1", "text": "Доставка сорвана", "author": "ivan", "thread_id": "t1", "lang": "ru"},
        "{broken",
        {"id": "c1", "text": "Same here", "parent_id": "p1", "thread_id": "t1", "source": "twitter"},
        {"id": "e1", "text": "   "},
        {"text": "no id at all", "created_at": "2020-01-01T00:00:00Z"},
    ]
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", "utf-8")
    stats = ReplayStats()
    mentions = list(read_mentions(path, stats=stats, clock=_clock))

    assert [m.external_id for m in mentions[:2]] == ["p1", "c1"]
    assert mentions[0].thread_key == "replay:t1" and mentions[0].lang == "ru"
    assert mentions[1].source == "twitter" and mentions[1].parent_external_id == "p1"
    assert mentions[0].author.id == "ivan" and mentions[2].author.id == "anonymous"
    assert all(m.created_at == FIXED for m in mentions), "timestamps are shifted to now by default"
    assert stats.read == 3 and stats.skipped == 2
    assert any("m.jsonl:2" in e for e in stats.errors) and any("m.jsonl:4" in e for e in stats.errors)


def test_ids_are_stable_so_a_second_replay_adds_nothing_and_loops_get_fresh_ids(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text('text,author\n"Line one, with comma",a\n"Multi\nline",b\n', "utf-8")
    first = [m.external_id for m in read_mentions(path)]
    second = [m.external_id for m in read_mentions(path)]
    looped = [m.external_id for m in read_mentions(path, loop_index=1)]
    assert first == second and len(set(first)) == 2
    assert set(first).isdisjoint(looped)
    assert [m.text for m in read_mentions(path)] == ["Line one, with comma", "Multi\nline"]


def test_keep_timestamps_keeps_created_at(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"text": "x", "created_at": "2024-05-01T10:00:00+03:00"}) + "\n", "utf-8")
    (mention,) = read_mentions(path, keep_timestamps=True, clock=_clock)
    assert mention.created_at == datetime(2024, 5, 1, 7, 0, tzinfo=UTC)


def test_replay_loops_until_stopped(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps({"text": f"t{i}"}) + "\n" for i in range(3)), "utf-8")
    seen: list[str] = []
    replay(path, lambda m: seen.append(m.external_id), loop=True, should_stop=lambda: len(seen) >= 7)
    assert len(seen) == 7 and len(set(seen)) == 7


def test_unreadable_files_raise_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TabularFileError, match="no such file"):
        list(read_mentions(tmp_path / "missing.jsonl"))
    bad = tmp_path / "m.csv"
    bad.write_text("body,author\nx,y\n", "utf-8")
    with pytest.raises(TabularFileError, match="no `text` column"):
        list(read_mentions(bad))
    other = tmp_path / "m.xml"
    other.write_text("<a/>", "utf-8")
    with pytest.raises(TabularFileError, match="unknown format"):
        list(read_mentions(other))


def test_a_loop_over_a_file_without_one_readable_mention_stops_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text("not json\n" + json.dumps({"id": "x"}) + "\n", "utf-8")  # no `text`
    stats = ReplayStats()
    with pytest.raises(TabularFileError, match="no readable mention to loop over"):
        replay(path, lambda _: None, loop=True, stats=stats)
    assert stats.skipped == 2, "one round, not an endless re-read"
