"""The stream's spike alerting: scored mentions -> event-time windows -> `alerts.v1` -> `alerts`
table -> webhook and e-mail.

The detector (sentiment/spikes.py) is pure; this module feeds it and ships what it raises. On start
it rebuilds the baselines from the database (the embedded broker keeps nothing across a restart)
and the alerts already raised, so a restart neither forgets the usual level nor alerts twice.

Windows are kept per worker: with several workers each sees its share of the partitions, so run the
spike agent's app with one worker, or read the counts as a sample (see the README).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from desk.services.alerting import deliver, history_points, point_of, record_delivery, save_alerts
from desk.store.engine import make_engine, make_session_factory, migrate
from ingest.config import ConfigError, load_config
from schemas import Alert, ScoredMention
from sentiment.app import app, settings
from sentiment.spikes import SpikeConfig, SpikeDetector
from sentiment.topics import alerts as alerts_topic
from sentiment.topics import scored_mentions

log = logging.getLogger(__name__)

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="md-alerts")
_sessions: list[sessionmaker[Session]] = []
REBUILD_SPAN = timedelta(hours=26)


def _session_factory() -> sessionmaker[Session]:
    if not _sessions:
        migrate(settings.database_url)
        _sessions.append(make_session_factory(make_engine(settings.database_url)))
    return _sessions[0]


def _brand_configs() -> dict[str, SpikeConfig]:
    if settings.config is None:
        return {}
    try:
        config = load_config(settings.config)
    except ConfigError as exc:
        log.error("alert sensitivity from the brands config not loaded: %s", exc)
        return {}
    return {
        b.name: SpikeConfig(k=b.alerts.k, min_count=b.alerts.min_count, enabled=b.alerts.enabled)
        for b in config.brands
    }


def make_detector() -> SpikeDetector:
    by_brand = _brand_configs()
    default = SpikeConfig(k=settings.spike_k, min_count=settings.spike_min_count)
    return SpikeDetector(
        config_for=lambda brand: by_brand.get(brand or "", default),
        lateness=timedelta(seconds=settings.spike_lateness_s),
        cooldown=timedelta(seconds=settings.spike_cooldown_s),
    )


detector = make_detector()
_rebuilt = asyncio.Event()


def _rebuild() -> int:
    with _session_factory()() as session:
        points, alerted = history_points(session, REBUILD_SPAN)
    detector.rebuild(points, alerted)
    return len(points)


async def _send(alerts: Sequence[Alert]) -> None:
    pending = []
    for alert in alerts:
        log.warning("spike: %s", alert.headline())
        pending.append(await alerts_topic.send(key=(alert.brand or "").encode(), value=alert.to_bytes()))
    await asyncio.gather(*pending)


@app.agent(scored_mentions)
async def spike_agent(stream: AsyncIterable[Any]) -> None:
    """mentions.scored.v1 -> windows per (brand, source, topic) -> alerts.v1."""
    loop = asyncio.get_running_loop()
    if not _rebuilt.is_set():
        count = await loop.run_in_executor(_executor, _rebuild)
        log.info("spike baselines rebuilt from %d stored mentions", count)
        _rebuilt.set()
    async for events in stream.take_events(500, within=settings.batch_window_s):  # type: ignore[attr-defined]
        raised: list[Alert] = []
        wall = time.monotonic()
        for event in events:
            try:
                mention = ScoredMention.model_validate_json(event.message.value or b"")
            except ValidationError:
                continue  # the persist agent dead-letters it
            if mention.author.is_brand:
                continue  # the brand's own answers are not the customers' mood
            raised.extend(detector.observe(point_of(mention), event.message.partition or 0, wall))
        if raised:
            await _send(raised)


@app.timer(interval=10.0)  # type: ignore[untyped-decorator]
async def spike_idle_flush() -> None:
    """Close windows held open by partitions that went quiet."""
    if _rebuilt.is_set():
        raised = detector.advance(time.monotonic())
        if raised:
            await _send(raised)


def _store_and_deliver(alerts: Sequence[Alert]) -> int:
    with _session_factory()() as session:
        new = save_alerts(session, alerts)
        session.commit()
    for alert in new:
        webhook, email = deliver(alert, settings)
        with _session_factory()() as session:
            record_delivery(session, alert.alert_id, webhook, email)
            session.commit()
    return len(new)


@app.agent(alerts_topic)
async def alert_store_agent(stream: AsyncIterable[Any]) -> None:
    """alerts.v1 -> `alerts` table (once per alert_id) -> webhook and e-mail for the new ones."""
    loop = asyncio.get_running_loop()
    async for values in stream.take(50, within=settings.batch_window_s):  # type: ignore[attr-defined]
        alerts = []
        for value in values:
            try:
                alerts.append(Alert.model_validate_json(value))
            except ValidationError as exc:
                log.warning("unreadable alert skipped: %s", str(exc).splitlines()[0])
        delay = 0.5
        while alerts:
            try:
                await loop.run_in_executor(_executor, _store_and_deliver, alerts)
                break
            except Exception as exc:
                log.error("storing %d alerts failed (%s); retrying in %.1fs", len(alerts), exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
