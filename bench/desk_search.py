"""Search's server time with 100,000 threads (300,000 mentions), on SQLite and PostgreSQL (target:
under 300 ms).

Builds the queue bench's 100,000 threads (bench.desk_queue.fill) with real tweets as texts
(Russian and English, bench.run.real_texts) and two replies under each, one in twenty of them a
delivery complaint, then indexes them the way the migration does (SQLite: the FTS5 table of stems
filled by core.db.search_index.backfill; PostgreSQL keeps its GIN index itself), and times
`desk.services.search.search` over a set of queries: inflected Russian words, English forms, a
phrase, alternatives, an exclusion, a word found nowhere, and a query with filters. p50 and p95 are
over all the queries' runs; `worst` is the slowest query's p95.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, text

from bench.desk_queue import THREADS, fill, postgres_database
from core.db import search_index
from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Mention, Thread
from core.settings import PROJECT_ROOT
from desk.services.search import SearchFilters, search

RUNS = 20
REPLIES = 2
COMPLAINTS = (
    "Где моя доставка? Заказ {n} так и не пришёл",
    "Курьер опоздал на доставку уже второй раз, заказ {n}",
    "Отмените доставки, верните деньги за заказ {n}",
    "Delivery of order {n} is late again, where is the courier?",
    "Two deliveries missed this week, order {n}",
)
QUERIES: tuple[tuple[str, SearchFilters | None], ...] = (
    ("доставку", None),
    ("курьера опоздал", None),
    ("deliveries", None),
    ("спасибо", None),
    ('"не работает"', None),
    ("возврат or refund", None),
    ("доставка -деньги", None),
    ("телепортация", None),
    ("доставку", SearchFilters(statuses=("new", "open"), brands=("acme",))),
)


def _texts(n: int, seed: int) -> list[str]:
    from bench.run import real_texts

    rng = random.Random(seed)
    pool = real_texts(20_000)
    return [rng.choice(COMPLAINTS).format(n=i) if rng.random() < 0.05 else rng.choice(pool) for i in range(n)]


def fill_search(engine: Engine, n: int = THREADS, seed: int = 2) -> int:
    """The queue bench's threads with real texts and REPLIES replies each; returns the mentions."""
    roots = _texts(n, seed)
    fill(engine, n, text_of=roots.__getitem__)
    replies = _texts(n * REPLIES, seed + 1)
    with engine.begin() as conn:
        threads = conn.execute(select(Thread.id, Thread.source, Thread.thread_key, Thread.first_message_at))
        rows: list[dict[str, Any]] = []
        for t in threads:
            for j in range(REPLIES):
                at = (t.first_message_at or datetime.now(UTC)) + timedelta(minutes=5 * (j + 1))
                rows.append(
                    {
                        "source": t.source,
                        "external_id": f"{t.thread_key}-r{j}",
                        "thread_id": t.id,
                        "thread_key": t.thread_key,
                        "author_id": 1 + (t.id + j) % max(n // 5, 1),  # the authors fill made
                        "is_brand": False,
                        "text": replies[(t.id - 1) * REPLIES + j],
                        "lang": "ru",
                        "created_at": at,
                        "collected_at": at,
                        "scored_at": at,
                        "stored_at": at,
                        "likes": 0,
                        "reposts": 0,
                        "replies": 0,
                        "views": 0,
                        "label": "negative" if j else "neutral",
                        "negativity": 0.5,
                        "prob_negative": 0.5,
                        "prob_neutral": 0.5,
                        "prob_positive": 0.0,
                        "model_version": "bench",
                        "topics": [],
                    }
                )
        for start in range(0, len(rows), 5000):
            conn.execute(insert(Mention), rows[start : start + 5000])
        search_index.backfill(conn)  # SQLite; PostgreSQL's GIN index followed the inserts
        conn.execute(text("ANALYZE"))
        return int(conn.execute(select(text("count(*)")).select_from(Mention)).scalar_one())


def time_search(engine: Engine, runs: int = RUNS) -> dict[str, Any]:
    sessions = make_session_factory(engine)
    samples: list[float] = []
    detail: dict[str, dict[str, float | int]] = {}
    for query, filters in QUERIES:
        with sessions() as session:
            warm = search(session, query, filters)
        mine = []
        for _ in range(runs):
            with sessions() as session:
                start = time.perf_counter()
                search(session, query, filters)
                mine.append((time.perf_counter() - start) * 1000)
        mine.sort()
        samples.extend(mine)
        name = query + (" (filtered)" if filters else "")
        detail[name] = {
            "threads_returned": len(warm.threads),
            "p50_ms": round(statistics.median(mine), 1),
            "p95_ms": round(mine[int(0.95 * (len(mine) - 1))], 1),
        }
    samples.sort()
    return {
        "p50": round(statistics.median(samples), 1),
        "p95": round(samples[int(0.95 * (len(samples) - 1))], 1),
        "worst": max(float(d["p95_ms"]) for d in detail.values()),
        "detail": detail,
    }


def _measure(url: str, prefix: str) -> dict[str, Any]:
    migrate(url)
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        mentions = fill_search(engine)
        filled_s = time.perf_counter() - started
        timing = time_search(engine)
    finally:
        engine.dispose()
    return {
        f"desk_search_{prefix}_ms_p50": timing["p50"],
        f"desk_search_{prefix}_ms_p95": timing["p95"],
        f"desk_search_{prefix}_worst_query_ms_p95": timing["worst"],
        f"desk_search_{prefix}_detail": {
            "mentions": mentions,
            "fill_s": round(filled_s, 1),
            **timing["detail"],
        },
    }


def run(work_dir: Path, databases: Sequence[str] = ("sqlite", "postgresql")) -> dict[str, Any]:
    """Search server time p50/p95 (ms) with 100,000 threads, SQLite and PostgreSQL."""
    work_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    if "sqlite" in databases:
        results.update(_measure(f"sqlite:///{work_dir}/desk_search.db", "sqlite"))
    if "postgresql" in databases:
        with postgres_database() as url:
            results.update(_measure(url, "postgresql"))
    return results


def main() -> None:
    """Run alone: measure and merge the figures into bench/results.json (the rest stays)."""
    import tempfile

    output = PROJECT_ROOT / "bench" / "results.json"
    with tempfile.TemporaryDirectory() as folder:
        results = run(Path(folder))
    merged: dict[str, Any] = json.loads(output.read_text("utf-8")) if output.is_file() else {}
    merged.update(results)
    output.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
