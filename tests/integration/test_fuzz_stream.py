"""A seeded fuzz run through the real embedded broker and a real `mentiondesk worker`: 10,000 raw
mentions, 10% hostile (broken JSON and UTF-8, wrong types, missing fields, huge numbers, control
characters, odd Unicode, over-long ids and names, impossible dates, texts near the broker's 1 MiB
limit, random mutations). Every valid mention is stored once and its thread gets an owner; every
hostile one is stored sanitised or dead-lettered with its reason, never both; the worker keeps
running. The per-class table is printed and written as JSON under the test's tmp folder."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.bus.producer import ensure_topics
from mentiondesk.broker import EmbeddedBroker
from schemas import DeadLetter
from tests.desk_support import create_user
from tests.fuzz_support import (
    HOSTILE_KINDS,
    Case,
    DeadLetterReader,
    Expect,
    Row,
    build_corpus,
    letter_tag,
    mention_counts,
    send_cases,
    stored_rows,
    unowned_threads,
)
from tests.support import WorkerStarter, count_rows, wait_until, worker_env

pytestmark = pytest.mark.pipeline

SEED = 20_240_601
TOTAL = 10_000
HOSTILE_SHARE = 0.10


@dataclass
class Tally:
    sent: int = 0
    stored: int = 0
    stored_sanitised: int = 0
    dead_lettered: int = 0


def _outcomes(
    cases: list[Case], rows: dict[str, Row], letters: list[DeadLetter]
) -> tuple[dict[str, Row], dict[str, DeadLetter], list[str]]:
    """Rows and letters by case tag, and every problem found (a letter twice, a case both ways, a
    case neither way, a row or letter no case explains)."""
    tags = {case.tag for case in cases}
    problems: list[str] = []
    dead: dict[str, DeadLetter] = {}
    for letter in letters:
        tag = letter_tag(letter)
        if tag not in tags:
            problems.append(f"dead letter for no case: key={letter.key!r} error={letter.error[:200]}")
        elif tag in dead:
            problems.append(f"{tag}: dead-lettered twice ({dead[tag].error[:100]} / {letter.error[:100]})")
        else:
            dead[tag] = letter
    problems += [f"row for no case: {external_id[:80]!r}" for external_id in set(rows) - tags]
    for case in cases:
        if case.tag in rows and case.tag in dead:
            problems.append(f"{case.tag} ({case.kind}): stored and dead-lettered ({dead[case.tag].error})")
        if case.tag not in rows and case.tag not in dead:
            problems.append(f"{case.tag} ({case.kind}): neither stored nor dead-lettered")
    return rows, dead, problems


def _check_expectation(case: Case, row: Row | None, letter: DeadLetter | None) -> str | None:
    """What is wrong with how `case` ended, if anything."""
    if letter is not None and not letter.error.strip():
        return f"{case.tag} ({case.kind}): dead letter without a reason"
    raw = case.value.decode("utf-8", errors="replace")
    if letter is not None and not raw.startswith(letter.payload):
        return f"{case.tag} ({case.kind}): the dead letter's payload is not the message (or its start)"
    if case.expect in (Expect.STORED, Expect.SANITISED):
        if row is None:
            reason = letter.error[:300] if letter else "nothing"
            return f"{case.tag} ({case.kind}): expected {case.expect.value}, got dead letter: {reason}"
        if (row.text, row.name) != (case.text, case.name):
            return f"{case.tag} ({case.kind}): stored {row.text[:60]!r}/{row.name!r}, want {case.text!r}"
    if case.expect is Expect.DEAD and row is not None:
        return f"{case.tag} ({case.kind}): expected a dead letter, stored {row.text[:80]!r}"
    return None


def _table(cases: list[Case], rows: dict[str, Row], dead: dict[str, DeadLetter]) -> dict[str, Tally]:
    table = {kind: Tally() for kind in ("valid", *HOSTILE_KINDS)}
    for case in cases:
        tally = table[case.kind]
        tally.sent += 1
        row = rows.get(case.tag)
        if row is not None:
            changed = case.expect is Expect.SANITISED or (row.text, row.name) != (case.text, case.name)
            if changed:
                tally.stored_sanitised += 1
            else:
                tally.stored += 1
        if case.tag in dead:
            tally.dead_lettered += 1
    return table


def _print_table(table: dict[str, Tally], path: Path, elapsed: float, database: str) -> None:
    lines = [f"fuzz run on {database}: {sum(t.sent for t in table.values())} messages in {elapsed:.0f}s"]
    lines.append(f"{'class':<16}{'sent':>7}{'stored':>8}{'sanitised':>11}{'dead-lettered':>15}")
    for kind, t in table.items():
        lines.append(f"{kind:<16}{t.sent:>7}{t.stored:>8}{t.stored_sanitised:>11}{t.dead_lettered:>15}")
    path.write_text(
        json.dumps(
            {
                "database": database,
                "elapsed_s": round(elapsed, 1),
                "classes": {kind: vars(t) for kind, t in table.items()},
            },
            indent=2,
        )
    )
    lines.append(f"table written to {path}")
    print("\n" + "\n".join(lines))


def test_a_seeded_fuzz_run_stores_the_valid_once_and_accounts_for_every_hostile_message(
    broker: EmbeddedBroker, start_worker: WorkerStarter, database_url: str, tmp_path: Path
) -> None:
    ensure_topics(broker.bootstrap, partitions=4)
    create_user(database_url, "fuzz-agent", "agent")  # routing needs an active agent
    cases = build_corpus(SEED, TOTAL, HOSTILE_SHARE)
    kinds = Counter(case.kind for case in cases)
    assert kinds["valid"] == TOTAL - round(TOTAL * HOSTILE_SHARE) and set(kinds) == {"valid", *HOSTILE_KINDS}

    worker = start_worker(worker_env(broker.bootstrap, database_url))
    started = time.monotonic()
    send_cases(broker.bootstrap, cases)
    reader = DeadLetterReader(broker.bootstrap)
    try:
        # Settled when every case shows up as a row or a dead letter (or the time is out).
        def settled() -> bool:
            reader.poll()
            return count_rows(database_url) + len(reader.letters) >= TOTAL

        wait_until(settled, timeout=1800, interval=2.0)
        elapsed = time.monotonic() - started
        time.sleep(5)  # a late duplicate row or letter would show up now
        while reader.poll(2000):
            pass
    finally:
        reader.close()

    rows, dead, problems = _outcomes(cases, stored_rows(database_url), reader.letters)
    table = _table(cases, rows, dead)
    _print_table(table, tmp_path / "fuzz_table.json", elapsed, database_url.split(":", maxsplit=1)[0])

    assert worker.poll() is None, "the worker exited"
    total_rows, distinct, counted = mention_counts(database_url)
    assert total_rows == distinct == counted, (total_rows, distinct, counted)
    wrong = [
        msg for case in cases if (msg := _check_expectation(case, rows.get(case.tag), dead.get(case.tag)))
    ]
    assert not problems and not wrong, "\n".join([*problems, *wrong][:40])

    valid_threads = {case.thread_key for case in cases if case.kind == "valid" and case.thread_key}
    assert wait_until(lambda: not unowned_threads(database_url, valid_threads), timeout=120), sorted(
        unowned_threads(database_url, valid_threads)
    )[:10]
    log = (tmp_path / "worker-0.log").read_text(errors="replace")
    assert "Crashed" not in log and worker.poll() is None
