"""The publisher (`mentiondesk publisher`): replies.outbound.v1 -> the networks -> the `replies` table.

The `replies` row is the one place a reply's result is kept: the publisher writes it, the desk
reads it (no result topic, no second writer). Replies reach the topic through the desk's
transactional outbox (`core.db.outbox`, relayed by `core.bus.relay`, which runs in this command):
what the broker lost is published again until the result is written here, and the result removes
the outbox row in the same transaction.

A reply is never posted twice. Its row in `replies` is marked `sending` (and the attempt counted)
and committed *before* the network call; the result is written after. A reply that was attempted
before (a killed publisher, a retried failure, a redelivered message) is first looked up on the
network (VK: the same `guid` returns the same comment; X: the account's replies to the same tweet
since the first attempt) before it is posted. The Kafka offset is committed only after the result
was written, so nothing is dropped either.

A rate limit or a network error does not block the consumer: the reply is *deferred* to the time
the network named (or a growing delay), its partition is paused and rewound to it, and the consumer
keeps polling, so it stays in its group; other partitions go on.

Review sites have no reply API: the result is `manual`, with the page link for the agent. Replies to
replayed mentions (the demo stream) are `manual` too: there is no network behind them.

Only replies the desk recorded are posted: the message must match a `replies` row (same text,
thread and target) in `queued` or `sending` state, written by an active desk user. Anything else on
the topic is a forgery (anyone who can write to the broker could otherwise post as the brand):
`handle` raises `ForgedReply`, and the consumer logs it and moves on. The publisher never creates a
`replies` row itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from kafka.structs import OffsetAndMetadata
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.db import outbox
from core.db.models import Mention as MentionRow
from core.db.models_desk import DeskUser
from core.db.models_ingest import Reply as ReplyRow
from core.db.repository_ingest import (
    FINAL_REPLY_STATUSES,
    apply_reply_result,
    get_reply,
    mark_sending,
)
from core.settings import Settings
from ingest.errors import AuthFailed, BrokenPayload, CaptchaRequired, CollectorError, RateLimited
from ingest.networks import Posted, Poster
from schemas import Reply, ReplyResult

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
POSTABLE_STATUSES = ("queued", "sending")
MAX_BACKOFF = timedelta(minutes=5)
DATABASE_RETRY = timedelta(seconds=5)
REPLAY_SOURCE = "replay"
"""Mentions of `mentiondesk replay` (the demo): answered on the desk, posted nowhere."""

AfterResult = Callable[[Session, ReplyResult], object]
"""Called in the transaction that writes a reply's result (the desk settles the case's clocks)."""


class ForgedReply(Exception):
    """A reply on the topic that the desk never recorded (or recorded differently): not posted."""

    def __init__(self, reply_id: UUID, reason: str) -> None:
        super().__init__(f"reply {reply_id}: {reason}")
        self.reply_id = reply_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Deferred:
    """Not posted yet: the network asked us to wait (or failed for now); try again at `until`."""

    reply_id: UUID
    until: datetime
    reason: str


def _no_hook(session: Session, result: ReplyResult) -> None:
    return None


class ReplyPublisher:
    """Turns one Reply into one ReplyResult, exactly once per reply_id."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        posters: Mapping[str, Poster],
        *,
        max_attempts: int = MAX_ATTEMPTS,
        after_result: AfterResult = _no_hook,
        redeliver_after: timedelta = timedelta(seconds=60),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions = sessions
        self.posters = posters
        self.max_attempts = max_attempts
        self.after_result = after_result
        self.redeliver_after = redeliver_after
        self.clock = clock

    def handle(self, reply: Reply) -> ReplyResult | Deferred:
        """Post a recorded reply once; raises `ForgedReply` for one the desk did not record."""
        with self.sessions() as session:
            row = self._recorded(session, reply)
            status, attempts = row.status, row.attempts
            first_attempt = row.first_attempt_at
            if status in FINAL_REPLY_STATUSES:  # a redelivered message: answer what we answered
                return ReplyResult(
                    reply_id=reply.reply_id,
                    status=status,
                    external_id=row.external_id,
                    url=row.url,
                    error=row.error,
                )
            active = self._active(session, row.agent)
        if not active:
            return self._finish(
                self._failed(reply.reply_id, f"{reply.agent} is no longer an active desk user: not posted")
            )
        if reply.source == REPLAY_SOURCE:
            return self._finish(
                ReplyResult(
                    reply_id=reply.reply_id,
                    status="manual",
                    error="a replayed mention (the demo stream): there is no network to post it to",
                )
            )
        if reply.source.startswith("review:"):
            return self._finish(
                ReplyResult(
                    reply_id=reply.reply_id,
                    status="manual",
                    url=self._page(reply),
                    error="review sites take answers on their page: post it by hand",
                )
            )
        poster = self.posters.get(reply.source)
        if poster is None:
            return self._finish(self._failed(reply.reply_id, f"no posting credentials for {reply.source}"))
        outcome = self._send(reply, poster, first_attempt=first_attempt, attempts=attempts)
        if isinstance(outcome, Deferred):
            with self.sessions() as session:
                outbox.postpone(session, str(reply.reply_id), outcome.until + self.redeliver_after)
                session.commit()
            return outcome
        return self._finish(outcome)

    def _recorded(self, session: Session, reply: Reply) -> ReplyRow:
        """The desk's record of this reply, or ForgedReply saying why there is none to post."""
        row = get_reply(session, str(reply.reply_id))
        if row is None:
            raise ForgedReply(reply.reply_id, "not recorded by the desk")
        differs = [
            name
            for name, recorded, sent in (
                ("text", row.text, reply.text),
                ("thread", row.thread_key, reply.thread_key),
                ("source", row.source, reply.source),
                ("target", row.in_reply_to, reply.in_reply_to),
                ("agent", row.agent, reply.agent),
            )
            if recorded != sent
        ]
        if differs:
            raise ForgedReply(reply.reply_id, f"differs from the recorded reply in {', '.join(differs)}")
        if row.status not in (*POSTABLE_STATUSES, *FINAL_REPLY_STATUSES):
            raise ForgedReply(reply.reply_id, f"recorded reply is {row.status!r}, not queued")
        return row

    @staticmethod
    def _active(session: Session, username: str) -> bool:
        agent = session.scalar(select(DeskUser).where(DeskUser.username == username))
        return agent is not None and agent.active

    def _send(
        self, reply: Reply, poster: Poster, *, first_attempt: datetime | None, attempts: int
    ) -> ReplyResult | Deferred:
        """One attempt: look for an earlier one on the network, else post; never sleeps."""
        try:
            posted = self._earlier(reply, poster, first_attempt)
            if posted is not None:
                log.info("reply %s was already posted by an earlier attempt: %s", reply.reply_id, posted.url)
            else:
                with self.sessions() as session:
                    attempts = mark_sending(session, str(reply.reply_id))
                    session.commit()
                posted = poster.post(reply)
            return ReplyResult(
                reply_id=reply.reply_id, status="sent", external_id=posted.external_id, url=posted.url
            )
        except (AuthFailed, CaptchaRequired, BrokenPayload) as exc:
            return self._failed(reply.reply_id, exc.message)
        except CollectorError as exc:  # rate limit or network: later, a few times
            if attempts >= self.max_attempts:
                return self._failed(reply.reply_id, f"gave up after {attempts} attempts: {exc.message}")
            if isinstance(exc, RateLimited):
                wait = timedelta(seconds=exc.retry_after)
            else:
                wait = min(timedelta(seconds=2 ** max(attempts - 1, 0)), MAX_BACKOFF)
            log.warning("reply %s: %s; again in %.0fs", reply.reply_id, exc.message, wait.total_seconds())
            return Deferred(reply.reply_id, self.clock() + wait, exc.message)

    def _earlier(self, reply: Reply, poster: Poster, first_attempt: datetime | None) -> Posted | None:
        """Our reply if an earlier attempt reached the network and no other reply claimed it."""
        if first_attempt is None:
            return None
        for candidate in poster.find(reply, since=first_attempt):
            with self.sessions() as session:
                claimed = session.scalar(
                    select(ReplyRow.reply_id).where(
                        ReplyRow.source == reply.source,
                        ReplyRow.external_id == candidate.external_id,
                        ReplyRow.reply_id != str(reply.reply_id),
                    )
                )
            if claimed is None:
                return candidate
        return None

    @staticmethod
    def _failed(reply_id: UUID, reason: str) -> ReplyResult:
        return ReplyResult(reply_id=reply_id, status="failed", error=reason)

    def _finish(self, result: ReplyResult) -> ReplyResult:
        with self.sessions() as session:
            apply_reply_result(session, result)
            self.after_result(session, result)
            session.commit()
        log.info("reply %s: %s %s", result.reply_id, result.status, result.url or result.error or "")
        return result

    def _page(self, reply: Reply) -> str | None:
        with self.sessions() as session:
            return session.scalar(
                select(MentionRow.url).where(
                    MentionRow.source == reply.source, MentionRow.external_id == reply.in_reply_to
                )
            )


def build_posters(settings: Settings) -> dict[str, Poster]:
    """A poster for every network whose posting credentials are set."""
    posters: dict[str, Poster] = {}
    vk_token = settings.vk_post_token or settings.vk_token
    if vk_token is not None and vk_token.get_secret_value():
        from ingest.networks.vk_poster import VkPoster
        from ingest.vk import make_vk_client

        posters["vk"] = VkPoster(
            make_vk_client(
                vk_token.get_secret_value(),
                settings.vk_api_url,
                settings.vk_api_version,
                settings.vk_rps_delay,
            )
        )
    keys = (
        settings.twitter_consumer_key,
        settings.twitter_consumer_secret,
        settings.twitter_access_token,
        settings.twitter_access_token_secret,
    )
    if all(k is not None and k.get_secret_value() for k in keys):
        import tweepy

        from ingest.endpoints import rebase_session
        from ingest.networks.twitter_poster import TwitterPoster
        from ingest.twitter import TWITTER_API_URL

        values = [k.get_secret_value() for k in keys if k is not None]
        client = tweepy.Client(
            consumer_key=values[0],
            consumer_secret=values[1],
            access_token=values[2],
            access_token_secret=values[3],
        )
        rebase_session(client.session, TWITTER_API_URL, settings.twitter_api_url)
        posters["twitter"] = TwitterPoster(client)
    return posters


def run_publisher(
    settings: Settings,
    bootstrap: str,
    stop: threading.Event,
    *,
    after_result: AfterResult = _no_hook,
) -> None:
    """Consume replies.outbound.v1 until `stop`; commit each offset after its result is written."""
    from kafka import KafkaConsumer

    from core.db.engine import make_engine, make_session_factory
    from schemas.topics import REPLIES_OUTBOUND

    engine = make_engine(settings.database_url)
    publisher = ReplyPublisher(
        make_session_factory(engine),
        build_posters(settings),
        after_result=after_result,
        redeliver_after=timedelta(seconds=settings.reply_redeliver_s),
    )
    log.info(
        "publisher: posting to %s", ", ".join(sorted(publisher.posters)) or "no network (no credentials)"
    )
    consumer = KafkaConsumer(
        REPLIES_OUTBOUND,
        bootstrap_servers=bootstrap,
        group_id=settings.publisher_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=int(settings.kafka_session_timeout_s * 1000),
        heartbeat_interval_ms=int(settings.kafka_session_timeout_s * 1000 / 3),
        max_poll_interval_ms=int(settings.publisher_max_poll_interval_s * 1000),
    )
    try:
        PublisherLoop(consumer, publisher, stop).run()
    finally:
        consumer.close()
        engine.dispose()


class PublisherLoop:
    """The consumer side: poll, hand each reply to the publisher, commit its offset; a deferred
    reply pauses its partition (rewound to it) until its time, while polling goes on."""

    def __init__(
        self,
        consumer: Any,
        publisher: ReplyPublisher,
        stop: threading.Event,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.consumer = consumer
        self.publisher = publisher
        self.stop = stop
        self.clock = clock
        self.paused: dict[Any, datetime] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            self._resume_due()
            batches = self.consumer.poll(timeout_ms=500)
            for partition, records in batches.items():
                if self.stop.is_set():
                    return
                self._consume(partition, records)

    def _resume_due(self) -> None:
        now = self.clock()
        due = [tp for tp, until in self.paused.items() if until <= now]
        for tp in due:
            del self.paused[tp]
        live = set(self.consumer.assignment())
        due = [tp for tp in due if tp in live]
        if due:
            self.consumer.resume(*due)

    def _consume(self, partition: Any, records: list[Any]) -> None:
        for message in records:
            if self.stop.is_set():
                return
            outcome = self._handle(message)
            if isinstance(outcome, Deferred):
                self.consumer.seek(partition, message.offset)
                self.consumer.pause(partition)
                self.paused[partition] = outcome.until
                return
            self.consumer.commit({partition: OffsetAndMetadata(message.offset + 1, "", -1)})

    def _handle(self, message: Any) -> ReplyResult | Deferred | None:
        try:
            reply = Reply.model_validate_json(message.value)
        except ValidationError as exc:
            log.warning(
                "publisher: skipped an unreadable reply at offset %s: %s",
                message.offset,
                str(exc).splitlines()[0],
            )
            return None
        try:
            return self.publisher.handle(reply)
        except OperationalError as exc:  # the database is away: this reply waits, nothing is skipped
            log.warning(
                "publisher: database unavailable, reply %s again in %s: %s",
                reply.reply_id,
                DATABASE_RETRY,
                str(exc).splitlines()[0],
            )
            return Deferred(reply.reply_id, self.clock() + DATABASE_RETRY, "database unavailable")
        except ForgedReply as exc:
            log.warning(
                "publisher: refused reply %s at offset %s: %s", exc.reply_id, message.offset, exc.reason
            )
            return None
