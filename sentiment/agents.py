"""The stream's agents: score raw mentions, persist scored ones, send the bad ones to the DLQ.

Delivery is at-least-once: every batch's output is acknowledged by the broker before the batch's
input offsets are committed, and the database write is idempotent on (source, external_id).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, Awaitable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from faust.types import EventT

from schemas import DeadLetter, ScoredMention
from sentiment.app import app, settings
from sentiment.language import detect_language
from sentiment.model import NegativityModel, load_model
from sentiment.persistence import MentionWriter
from sentiment.scoring import (
    BatchOutcome,
    RawMessage,
    dead_letter,
    parse_mentions,
    parse_scored,
    score_mentions,
)
from sentiment.topics import dead_letters, raw_mentions, scored_mentions
from sentiment.topics_rules import load_tagger

log = logging.getLogger(__name__)

# Model inference and database writes run here, off the event loop, so the consumer keeps
# heart-beating while torch works (torch releases the GIL).
_model_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="md-model")
_db_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="md-db")


class _Resources:
    """The worker's model and database writer, each created once, on first use."""

    def __init__(self) -> None:
        self.model: NegativityModel | None = None
        self.writer: MentionWriter | None = None
        self.model_lock = asyncio.Lock()

    async def get_model(self) -> NegativityModel:
        async with self.model_lock:
            if self.model is None:
                loop = asyncio.get_running_loop()
                self.model = await loop.run_in_executor(_model_executor, load_model, settings)
                log.info("model loaded: %s", self.model.version)
        return self.model

    def get_writer(self) -> MentionWriter:
        if self.writer is None:
            self.writer = MentionWriter(settings.database_url, settings.desk_sync_interval_s)
        return self.writer


_resources = _Resources()
_tagger = load_tagger(settings)  # topic dictionaries of the brands config (MD_CONFIG), if any
_tag_topics = _tagger.tag_mention if _tagger is not None else None


def preload_model() -> NegativityModel:
    """Load the model before the worker joins its group, so a broken model fails the start loudly
    instead of crash-looping the agent."""
    _resources.model = load_model(settings)
    log.info("model loaded: %s", _resources.model.version)
    return _resources.model


def _raw(event: EventT[Any]) -> RawMessage:
    message = event.message
    value = message.value
    return RawMessage(
        value=value if isinstance(value, bytes | None) else str(value).encode("utf-8"),
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key if isinstance(message.key, bytes | None) else str(message.key).encode("utf-8"),
    )


async def _send_dead(letters: Sequence[DeadLetter]) -> list[Awaitable[Any]]:
    futures = []
    for letter in letters:
        log.warning(
            "dead letter from %s[%s]@%s: %s", letter.topic, letter.partition, letter.offset, letter.error
        )
        futures.append(await dead_letters.send(key=(letter.key or "").encode(), value=letter.to_bytes()))
    return futures


def _score_isolating_failures(model: NegativityModel, messages: Sequence[RawMessage]) -> BatchOutcome:
    """Score the batch in one call; if the model refuses it, find the message that broke it."""
    mentions, outcome = parse_mentions(messages)
    try:
        outcome.scored = score_mentions(mentions, model, detect_language, _tag_topics)
        return outcome
    except Exception:
        log.exception("batch of %d failed in the model; scoring one by one", len(mentions))
    by_id = {(m.source, m.external_id): raw for m, raw in zip(mentions, messages, strict=False)}
    for mention in mentions:
        try:
            outcome.scored.extend(score_mentions([mention], model, detect_language, _tag_topics))
        except Exception as exc:
            raw = by_id.get((mention.source, mention.external_id), messages[0])
            outcome.dead.append(dead_letter(raw, f"model failed: {exc!r}", "score"))
    return outcome


@app.agent(raw_mentions)
async def score_agent(stream: AsyncIterable[Any]) -> None:
    """mentions.raw.v1 -> micro-batches -> model -> mentions.scored.v1 (bad ones -> DLQ)."""
    model = await _resources.get_model()
    loop = asyncio.get_running_loop()
    # Take up to batch_take; the model runs them length-sorted in batches of batch_size, which pads
    # far less than one batch in arrival order.
    async for events in stream.take_events(settings.batch_take, within=settings.batch_window_s):  # type: ignore[attr-defined]
        messages = [_raw(e) for e in events]
        outcome = await loop.run_in_executor(_model_executor, _score_isolating_failures, model, messages)
        pending = await _send_dead(outcome.dead)
        for mention in outcome.scored:
            pending.append(await scored_mentions.send(key=mention.key, value=mention.to_bytes()))
        # Wait for the broker's acknowledgement before the offsets of this batch may be committed.
        await asyncio.gather(*pending)


async def _write_with_retry(batch: Sequence[ScoredMention]) -> int:
    """Write until the database takes it: a database outage pauses the stream, it loses nothing."""
    loop = asyncio.get_running_loop()
    delay = 0.5
    while True:
        try:
            return await loop.run_in_executor(_db_executor, _resources.get_writer().save, batch)
        except Exception as exc:
            log.error("database write of %d mentions failed (%s); retrying in %.1fs", len(batch), exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)


@app.agent(scored_mentions)
async def persist_agent(stream: AsyncIterable[Any]) -> None:
    """mentions.scored.v1 -> database, idempotent on (source, external_id)."""
    async for events in stream.take_events(200, within=settings.batch_window_s):  # type: ignore[attr-defined]
        scored, dead = parse_scored([_raw(e) for e in events])
        pending = await _send_dead(dead)
        if scored:
            inserted = await _write_with_retry(scored)
            log.debug("persisted %d scored mentions (%d new)", len(scored), inserted)
        await asyncio.gather(*pending)


@app.timer(interval=1.0)  # type: ignore[untyped-decorator]
async def desk_sync_timer() -> None:
    """Route the threads of the last batches of a burst (the writer syncs at most every interval)."""
    writer = _resources.writer
    if writer is not None and writer.unsynced:
        try:
            await asyncio.get_running_loop().run_in_executor(_db_executor, writer.sync_if_due)
        except Exception:
            log.exception("desk sync failed; the next pass retries")


# Spike alerting on the same scored stream (windows, alerts.v1, alert store and delivery).
from sentiment import alert_agents as _alert_agents  # noqa: E402, F401
