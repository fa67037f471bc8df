"""The stream's agent: score raw mentions, store them, send the bad ones to the DLQ.

Delivery is at-least-once: every batch's scores are acknowledged by the broker and written to the
database (idempotent on (source, external_id)) before the batch's input offsets are committed; the
spike detector gets the stored batch in process (sentiment/scored_feed.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

import faust
from faust.types import EventT, TopicT

from core.retry import until_done, until_sent
from schemas import DeadLetter, Mention
from schemas.mention import Language
from sentiment.language import detect_language
from sentiment.model import NegativityModel
from sentiment.persistence import MentionWriter
from sentiment.scored_feed import StoredMention
from sentiment.scoring import (
    BatchOutcome,
    RawMessage,
    dead_letter,
    parse_mentions,
    score_mentions,
    split_refused,
)
from sentiment.topics import WorkerTopics
from sentiment.topics_rules import TopicTagger

if TYPE_CHECKING:
    from sentiment.worker import WorkerDeps

log = logging.getLogger(__name__)

TagTopics = Callable[[Mention], tuple[str, ...]]

LANGUAGE_SAMPLE_CHARS = 2_000
"""How much of a text the language guess reads: the start tells the language, and the guesser's
patterns take time quadratic in a run of non-space characters (100,000 emoji took ~30 s, holding
the GIL, so the worker's event loop and heartbeats stalled)."""


SCORE_ACTORS = 2
"""Score agents, each with a model thread of its own: while one take is in the model, the other's
scores go to the broker and the database, and the next take is gathered (the cores stay busy: 1.95 of
2 against 1.80 with one agent, README). The two pull one partition's offsets interleaved and may
finish out of order; the consumer commits a partition only up to its first offset still in process
(sentiment/kafka_transport.py), so a SIGKILL loses no take still in the model."""


def agent_take(batch_take: int) -> int:
    """One score agent's take: the agents share MD_BATCH_TAKE, so a worker has at most that many
    mentions in process and a SIGTERM waits for no more work than with one agent (two full takes side
    by side kept a worker on torch running past its 15 s grace period on an AVX2 host)."""
    return max(1, -(-batch_take // SCORE_ACTORS))


def guess_language(text: str) -> Language:
    """`detect_language` on the first LANGUAGE_SAMPLE_CHARS characters of `text`."""
    return detect_language(text[:LANGUAGE_SAMPLE_CHARS])


async def finish_even_if_stopped(batch: Coroutine[Any, Any, None]) -> None:
    """Run one batch to its end even when the worker is stopping.

    Faust acknowledges a `take_events` batch when the agent's loop leaves it, also when the agent is
    cancelled on SIGTERM, and commits those offsets on its way out: a batch cut short would be
    committed unprocessed and lost. So a stop waits for the batch in hand (bounded by one batch of
    the model or one database write), then the cancellation goes on.
    """
    task = asyncio.ensure_future(batch)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            log.info("stopping: finishing the batch in hand first")
            await asyncio.wait({task})
        raise


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


async def _send_dead(dead_letters: TopicT, letters: Sequence[DeadLetter]) -> list[Awaitable[Any]]:
    futures = []
    for letter in letters:
        log.warning(
            "dead letter from %s[%s]@%s: %s", letter.topic, letter.partition, letter.offset, letter.error
        )
        # Cut to fit: a letter the broker refuses as too large would crash the agent sending it.
        body = letter.fitting().to_bytes()
        futures.append(await dead_letters.send(key=(letter.key or "").encode(), value=body))
    return futures


def score_isolating_failures(
    model: NegativityModel, messages: Sequence[RawMessage], tag_topics: TagTopics | None
) -> BatchOutcome:
    """Score the batch in one call; if the model refuses it, find the message that broke it."""
    mentions, outcome = parse_mentions(messages)
    try:
        outcome.scored = score_mentions(mentions, model, guess_language, tag_topics)
        return outcome
    except Exception:
        log.exception("batch of %d failed in the model; scoring one by one", len(mentions))
    origins, outcome.origins = outcome.origins, []
    for mention, origin in zip(mentions, origins, strict=True):
        try:
            outcome.scored.extend(score_mentions([mention], model, guess_language, tag_topics))
            outcome.origins.append(origin)
        except Exception as exc:
            outcome.dead.append(dead_letter(origin, f"model failed: {exc!r}", "score"))
    return outcome


def register(app: faust.App, topics: WorkerTopics, deps: WorkerDeps) -> None:
    """The score agent and the routing timer, on `app`."""
    settings = deps.settings
    model = deps.model
    tagger = TopicTagger.from_config(deps.brands) if deps.brands is not None else None
    tag_topics = tagger.tag_mention if tagger is not None and not tagger.empty else None
    writer = MentionWriter(deps.sessions, deps.after_save, settings.desk_sync_interval_s)
    # Model inference and database writes run here, off the event loop, so the consumer keeps
    # heart-beating while torch works (torch releases the GIL); one model thread per score agent.
    model_executor = ThreadPoolExecutor(max_workers=SCORE_ACTORS, thread_name_prefix="md-model")
    db_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="md-db")

    @app.agent(topics.raw_mentions, name="score_agent", concurrency=SCORE_ACTORS)
    async def score_agent(stream: AsyncIterable[Any]) -> None:
        """mentions.raw.v1 -> micro-batches -> model -> mentions.scored.v1 (bad ones -> DLQ)."""
        # Take up to this agent's share of batch_take; the model runs them length-sorted in batches
        # of batch_size, which pads far less than one batch in arrival order.
        take = agent_take(settings.batch_take)
        async for events in stream.take_events(take, within=settings.batch_window_s):  # type: ignore[attr-defined]
            await finish_even_if_stopped(score_batch(events, deps.scored_feed.ticket()))

    async def score_batch(events: Sequence[EventT[Any]], ticket: int) -> None:
        try:
            await score_store_and_hand_on(events, ticket)
        finally:
            deps.scored_feed.release(ticket)  # a batch that failed holds up none behind it

    async def score_store_and_hand_on(events: Sequence[EventT[Any]], ticket: int) -> None:
        loop = asyncio.get_running_loop()
        messages = [_raw(e) for e in events]
        outcome = await loop.run_in_executor(
            model_executor, score_isolating_failures, model, messages, tag_topics
        )
        # The scores go to the broker and into the database side by side; the batch's offsets may
        # be committed only when both are done. A broker that refuses or times out, or a database
        # outage, pauses the stream and that step is tried again (the write is idempotent).
        sent = until_sent(
            partial(_send_scored, outcome), f"sending {len(outcome.scored)} scored mentions", log
        )
        stored, _ = await asyncio.gather(store(outcome), sent)
        await deps.scored_feed.publish(stored, ticket)

    async def _send_scored(outcome: BatchOutcome) -> None:
        pending = await _send_dead(topics.dead_letters, outcome.dead)
        for mention in outcome.scored:
            pending.append(await topics.scored_mentions.send(key=mention.key, value=mention.to_bytes()))
        await asyncio.gather(*pending)

    async def store(outcome: BatchOutcome) -> list[StoredMention]:
        """Write the batch, idempotent on (source, external_id); mentions the database refuses for
        their data go to the DLQ with its reason, the rest are returned."""
        if not outcome.scored:
            return []
        what = f"database write of {len(outcome.scored)} mentions"
        saved = await until_done(db_executor, partial(writer.save, outcome.scored), what, log)
        stored, dead = split_refused(outcome, saved.refused)
        log.debug("stored %d scored mentions (%d new)", len(stored), saved.inserted)
        if dead:
            await until_sent(partial(_send_dead_all, dead), f"dead-lettering {len(dead)} messages", log)
        return stored

    async def _send_dead_all(letters: Sequence[DeadLetter]) -> None:
        await asyncio.gather(*await _send_dead(topics.dead_letters, letters))

    @app.timer(interval=1.0, name="desk_sync_timer")  # type: ignore[untyped-decorator]
    async def desk_sync_timer() -> None:
        """Route the threads of the last batches of a burst (the writer syncs at most every interval)."""
        if writer.unsynced:
            try:
                await asyncio.get_running_loop().run_in_executor(db_executor, writer.sync_if_due)
            except Exception:
                log.exception("desk sync failed; the next pass retries")
