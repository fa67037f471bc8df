"""The stream's spike alerting: stored mentions (handed over in process by the score agent) ->
event-time windows -> `alerts.v1` -> `alerts` table -> webhook and e-mail.

The detector (sentiment/spikes.py) is pure; this module feeds it and ships what it raises. On start
it rebuilds the baselines from the database (the embedded broker keeps nothing across a restart)
and the alerts already raised, so a restart neither forgets the usual level nor alerts twice.

Windows are kept per worker: with several workers each sees its share of the partitions, so run one
worker where the spike counts matter, or read them as a sample (see the README).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterable, Sequence, Set
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import faust
from faust.types import TP
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from core.brands import BrandsConfig
from core.db.alerts import record_delivery, save_alerts
from core.notify.alerts import deliver
from core.retry import until_done, until_sent
from core.settings import Settings
from schemas import Alert
from sentiment.alert_history import history_points, point_of
from sentiment.scored_feed import StoredMention
from sentiment.spikes import SpikeConfig, SpikeDetector
from sentiment.topics import WorkerTopics

if TYPE_CHECKING:
    from sentiment.worker import WorkerDeps

log = logging.getLogger(__name__)

REBUILD_SPAN = timedelta(hours=26)


def make_detector(settings: Settings, brands: BrandsConfig | None) -> SpikeDetector:
    """A detector with each brand's sensitivity from the brands config, the settings' elsewhere."""
    by_brand = {
        b.name: SpikeConfig(k=b.alerts.k, min_count=b.alerts.min_count, enabled=b.alerts.enabled)
        for b in (brands.brands if brands is not None else ())
    }
    default = SpikeConfig(k=settings.spike_k, min_count=settings.spike_min_count)
    return SpikeDetector(
        config_for=lambda brand: by_brand.get(brand or "", default),
        lateness=timedelta(seconds=settings.spike_lateness_s),
        cooldown=timedelta(seconds=settings.spike_cooldown_s),
    )


def _store_and_deliver(sessions: sessionmaker[Session], settings: Settings, alerts: Sequence[Alert]) -> int:
    with sessions() as session:
        new = save_alerts(session, alerts)
        session.commit()
    for alert in new:
        webhook, email = deliver(alert, settings)
        with sessions() as session:
            record_delivery(session, alert.alert_id, webhook, email)
            session.commit()
    return len(new)


def register(app: faust.App, topics: WorkerTopics, deps: WorkerDeps) -> None:
    """The spike detector (fed by the score agent), its idle flush and the alert store, on `app`."""
    settings = deps.settings
    sessions = deps.sessions
    detector = make_detector(settings, deps.brands)
    rebuilt = asyncio.Event()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="md-alerts")

    started = datetime.now(UTC)

    def rebuild() -> int:
        with sessions() as session:
            points, alerted = history_points(session, REBUILD_SPAN, stored_before=started)
        detector.rebuild(points, alerted)
        return len(points)

    async def send(alerts: Sequence[Alert]) -> None:
        pending = []
        for alert in alerts:
            log.warning("spike: %s", alert.headline())
            pending.append(await topics.alerts.send(key=(alert.brand or "").encode(), value=alert.to_bytes()))
        await asyncio.gather(*pending)

    rebuilding = asyncio.Lock()

    async def ensure_rebuilt() -> None:
        async with rebuilding:
            if not rebuilt.is_set():
                count = await until_done(executor, rebuild, "rebuilding the spike baselines", log)
                log.info("spike baselines rebuilt from %d stored mentions", count)
                rebuilt.set()

    async def observe(batch: Sequence[StoredMention]) -> None:
        """Stored mentions -> windows per (brand, source, topic) -> alerts.v1."""
        await ensure_rebuilt()
        raised: list[Alert] = []
        wall, now = time.monotonic(), datetime.now(UTC)
        late_before = detector.windows.late
        for stored in batch:
            if stored.mention.author.is_brand:
                continue  # the brand's own answers are not the customers' mood
            raised.extend(detector.observe(point_of(stored.mention), stored.partition, wall, now))
        # At info level: a collector's first pass over a week of history is late by design.
        if detector.windows.late > late_before:
            log.info(
                "%d mentions came after their spike window had closed (late, or delivered again after a "
                "restart) and were not counted in it",
                detector.windows.late - late_before,
            )
        if raised:
            await until_sent(partial(send, raised), f"sending {len(raised)} alerts", log)

    deps.scored_feed.subscribe(observe)
    raw_topic = topics.raw_mentions.get_topic_name()

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def expect_assigned(_app: faust.App, assigned: Set[TP], **_: Any) -> None:
        """Every partition of the raw topic this worker now reads holds the spike watermark until
        it has been read (or stays quiet): otherwise the first partitions fetched close the windows
        the others' mentions belong to."""
        detector.expect((tp.partition for tp in assigned if tp.topic == raw_topic), time.monotonic())

    @app.task  # type: ignore[untyped-decorator]
    async def rebuild_on_start() -> None:
        """Rebuild at once, so the first batch does not wait for it (it would, if it came first)."""
        await ensure_rebuilt()

    @app.timer(interval=10.0, name="spike_idle_flush")  # type: ignore[untyped-decorator]
    async def spike_idle_flush() -> None:
        """Close windows held open by partitions that went quiet."""
        if rebuilt.is_set():
            raised = detector.advance(time.monotonic())
            if raised:
                await send(raised)

    @app.agent(topics.alerts, name="alert_store_agent")
    async def alert_store_agent(stream: AsyncIterable[Any]) -> None:
        """alerts.v1 -> `alerts` table (once per alert_id) -> webhook and e-mail for the new ones."""
        async for values in stream.take(50, within=settings.batch_window_s):  # type: ignore[attr-defined]
            alerts = []
            for value in values:
                try:
                    alerts.append(Alert.model_validate_json(value))
                except ValidationError as exc:
                    log.warning("unreadable alert skipped: %s", str(exc).splitlines()[0])
            if alerts:
                await until_done(
                    executor,
                    partial(_store_and_deliver, sessions, settings, alerts),
                    f"storing {len(alerts)} alerts",
                    log,
                )
