"""The queue's server time with 100,000 threads, on SQLite and PostgreSQL (target: under 300 ms).

Fills a fresh database with threads in every status, their root mentions, authors and desk rows
(bulk inserts, not the pipeline: this measures the read), then times `desk_queue` for a manager's
"all" view and an agent's "my threads" view. PostgreSQL: a database `md_bench_<random>` on
127.0.0.1:5432 (MD_BENCH_PG_ADMIN_URL to change), created and dropped here.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, text

from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Author, Mention, Thread
from core.db.models_desk import DeskThread
from core.db.scratch import scratch_postgres_database
from desk.services.auth import Actor
from desk.services.clocks import BusinessCalendar, first_response_due, rank_at, resolution_due
from desk.services.worklist import desk_queue

THREADS = 100_000
RUNS = 30
PG_ADMIN_URL = os.environ.get(
    "MD_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
STATUSES = ("new", "open", "waiting", "resolved", "closed")
WEIGHTS = (2, 2, 2, 2, 2)
AGENTS = [f"agent{i:02d}" for i in range(50)]


def fill(
    engine: Engine, n: int = THREADS, seed: int = 1, text_of: Callable[[int], str] | None = None
) -> None:
    """`text_of(i)`: the text of thread i's root mention (the search bench gives real ones)."""
    rng = random.Random(seed)
    calendar = BusinessCalendar()
    now = datetime.now(UTC)
    followers = [rng.randrange(10**6) for _ in range(n // 5)]
    authors: list[dict[str, object]] = [
        {
            "id": i + 1,
            "source": "vk",
            "author_id": f"a{i}",
            "name": f"Author {i}",
            "followers": followers[i],
            "is_brand": False,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(n // 5)
    ]
    threads, mentions, desk = [], [], []
    for i in range(n):
        created = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
        status = rng.choices(STATUSES, WEIGHTS)[0]
        negativity = rng.random()
        source = rng.choice(("vk", "twitter", "review:otzovik.com"))
        owner = rng.choice(AGENTS)
        author = rng.randrange(len(authors))
        reach = followers[author]
        due = first_response_due(calendar, created)
        threads.append(
            {
                "id": i + 1,
                "source": source,
                "thread_key": f"t{i}",
                "brand": rng.choice(("acme", "globex")),
                "status": status,
                "root_external_id": f"m{i}",
                "lang": rng.choice(("ru", "en")),
                "first_message_at": created,
                "last_message_at": created,
                "last_customer_message_at": created,
                "message_count": 1,
                "max_negativity": negativity,
                "last_negativity": negativity,
                "assigned_to": owner,
                "created_at": created,
                "updated_at": created,
            }
        )
        mentions.append(
            {
                "source": source,
                "external_id": f"m{i}",
                "thread_id": i + 1,
                "thread_key": f"t{i}",
                "author_id": author + 1,
                "is_brand": False,
                "text": text_of(i) if text_of else f"customer text number {i}",
                "lang": "ru",
                "created_at": created,
                "collected_at": created,
                "scored_at": created,
                "stored_at": created,
                "likes": 0,
                "reposts": 0,
                "replies": 0,
                "views": 0,
                "label": "negative",
                "negativity": negativity,
                "prob_negative": negativity,
                "prob_neutral": 0.0,
                "prob_positive": 0.0,
                "model_version": "bench",
                "topics": ["delivery"],
            }
        )
        active = status in ("new", "open", "waiting")
        desk.append(
            {
                "thread_id": i + 1,
                "team": "support",
                "version": 1,
                "cycle": 1,
                "cycle_started_at": created,
                "first_response_due": due,
                "first_response_missed": False,
                "update_missed": False,
                "resolution_due": resolution_due(calendar, created),
                "resolution_missed": False,
                "reach": reach,
                "rank_at": rank_at(due, negativity, reach, None) if active else None,
                "updated_at": created,
            }
        )
    with engine.begin() as conn:
        for table, rows in ((Author, authors), (Thread, threads), (Mention, mentions), (DeskThread, desk)):
            for start in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[start : start + 5000])
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('threads_id_seq', (SELECT max(id) FROM threads))"))
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))


def time_queue(engine: Engine, runs: int = RUNS) -> dict[str, tuple[float, float]]:
    sessions = make_session_factory(engine)
    views: dict[str, Callable[[], object]] = {}
    manager, agent = Actor("lead", "manager", "support"), Actor(AGENTS[7], "agent", "support")

    def view(actor: Actor, scope: str) -> Callable[[], object]:
        def run() -> object:
            with sessions() as session:
                return desk_queue(session, actor, scope=scope)  # type: ignore[arg-type]

        return run

    views["all"] = view(manager, "all")
    views["mine"] = view(agent, "mine")
    out: dict[str, tuple[float, float]] = {}
    for name, run in views.items():
        assert run(), f"the {name} view is empty"
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            run()
            samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        out[name] = (round(statistics.median(samples), 1), round(samples[int(0.95 * (len(samples) - 1))], 1))
    return out


def postgres_database() -> AbstractContextManager[str]:
    return scratch_postgres_database(PG_ADMIN_URL, "md_bench_")


def _measure(url: str, prefix: str) -> dict[str, float]:
    migrate(url)
    engine = make_engine(url)
    try:
        fill(engine)
        timings = time_queue(engine)
    finally:
        engine.dispose()
    results: dict[str, float] = {}
    for view, (p50, p95) in timings.items():
        results[f"desk_queue_{view}_{prefix}_ms_p50"] = p50
        results[f"desk_queue_{view}_{prefix}_ms_p95"] = p95
    return results


def run(work_dir: Path) -> dict[str, float]:
    """Queue server time p50/p95 (ms) with 100,000 threads, SQLite and PostgreSQL."""
    work_dir.mkdir(parents=True, exist_ok=True)
    results = _measure(f"sqlite:///{work_dir}/desk_queue.db", "sqlite")
    with postgres_database() as url:
        results.update(_measure(url, "postgresql"))
    return results


if __name__ == "__main__":
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(run(Path(folder)), indent=2))
