"""The publisher (`mentiondesk publisher`): replies.outbound.v1 -> the networks -> the `replies` table.

The `replies` row is the one place a reply's result is kept: the publisher writes it, the desk
reads it (no result topic, no second writer).

A reply is never posted twice. Its row in `replies` is marked `sending` (and the attempt counted)
and committed *before* the network call; the result is written after. A publisher killed in
between finds the row still `sending` on restart, and asks the network first (VK: the same `guid`
returns the same comment; X: the account's recent replies are searched) before it posts. The
Kafka offset is committed only after the result was written, so nothing is dropped either.

Review sites have no reply API: the result is `manual`, with the page link for the agent.

Only replies the desk recorded are posted: the message must match a `replies` row (same text,
thread and target) in `queued` or `sending` state. Anything else on the topic is a forgery (anyone
who can write to the broker could otherwise post as the brand): `handle` raises `ForgedReply`, and
the consumer logs it and moves on. The publisher never creates a `replies` row itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db.models import Mention as MentionRow
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


class ForgedReply(Exception):
    """A reply on the topic that the desk never recorded (or recorded differently): not posted."""

    def __init__(self, reply_id: UUID, reason: str) -> None:
        super().__init__(f"reply {reply_id}: {reason}")
        self.reply_id = reply_id
        self.reason = reason


class ReplyPublisher:
    """Turns one Reply into one ReplyResult, exactly once per reply_id."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        posters: Mapping[str, Poster],
        *,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sessions = sessions
        self.posters = posters
        self.max_attempts = max_attempts
        self.sleep = sleep

    def handle(self, reply: Reply) -> ReplyResult:
        """Post a recorded reply once; raises `ForgedReply` for one the desk did not record."""
        reply_id = str(reply.reply_id)
        with self.sessions() as session:
            row = get_reply(session, reply_id)
            if row is None:
                raise ForgedReply(reply.reply_id, "not recorded by the desk")
            differs = [
                name
                for name, recorded, sent in (
                    ("text", row.text, reply.text),
                    ("thread", row.thread_key, reply.thread_key),
                    ("source", row.source, reply.source),
                    ("target", row.in_reply_to, reply.in_reply_to),
                )
                if recorded != sent
            ]
            if differs:
                raise ForgedReply(reply.reply_id, f"differs from the recorded reply in {', '.join(differs)}")
            status, attempts = row.status, row.attempts
            if status in FINAL_REPLY_STATUSES:  # a redelivered message: answer what we answered
                return ReplyResult(
                    reply_id=reply.reply_id,
                    status=status,
                    external_id=row.external_id,
                    url=row.url,
                    error=row.error,
                )
            if status not in POSTABLE_STATUSES:
                raise ForgedReply(reply.reply_id, f"recorded reply is {status!r}, not queued")
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
        return self._finish(self._send(reply, poster, resumed=status == "sending", attempts=attempts))

    def _send(self, reply: Reply, poster: Poster, *, resumed: bool, attempts: int) -> ReplyResult:
        delay = 1.0
        while True:
            try:
                posted: Posted | None = poster.find(reply) if resumed else None
                if posted is not None:
                    log.info("reply %s was already posted before a restart: %s", reply.reply_id, posted.url)
                else:
                    with self.sessions() as session:
                        attempts = mark_sending(session, str(reply.reply_id))
                        session.commit()
                    resumed = True
                    posted = poster.post(reply)
                return ReplyResult(
                    reply_id=reply.reply_id, status="sent", external_id=posted.external_id, url=posted.url
                )
            except (AuthFailed, CaptchaRequired, BrokenPayload) as exc:
                return self._failed(reply.reply_id, exc.message)
            except CollectorError as exc:  # rate limit or network: wait and try again, a few times
                if attempts >= self.max_attempts:
                    return self._failed(reply.reply_id, f"gave up after {attempts} attempts: {exc.message}")
                wait = exc.retry_after if isinstance(exc, RateLimited) else delay
                log.warning("reply %s: %s; retrying in %.1fs", reply.reply_id, exc.message, wait)
                self.sleep(wait)
                delay = min(delay * 2, 60.0)

    @staticmethod
    def _failed(reply_id: UUID, reason: str) -> ReplyResult:
        return ReplyResult(reply_id=reply_id, status="failed", error=reason)

    def _finish(self, result: ReplyResult) -> ReplyResult:
        with self.sessions() as session:
            apply_reply_result(session, result)
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


def run_publisher(settings: Settings, bootstrap: str, stop: threading.Event) -> None:
    """Consume replies.outbound.v1 until `stop`; commit each offset after its result is written."""
    from kafka import KafkaConsumer

    from core.db.engine import make_engine, make_session_factory
    from schemas.topics import REPLIES_OUTBOUND

    engine = make_engine(settings.database_url)
    publisher = ReplyPublisher(make_session_factory(engine), build_posters(settings))
    log.info(
        "publisher: posting to %s", ", ".join(sorted(publisher.posters)) or "no network (no credentials)"
    )
    consumer = KafkaConsumer(
        REPLIES_OUTBOUND,
        bootstrap_servers=bootstrap,
        group_id=settings.publisher_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=500,
        session_timeout_ms=int(settings.kafka_session_timeout_s * 1000),
        heartbeat_interval_ms=int(settings.kafka_session_timeout_s * 1000 / 3),
    )
    try:
        while not stop.is_set():
            for message in consumer:
                try:
                    reply = Reply.model_validate_json(message.value)
                except ValidationError as exc:
                    log.warning(
                        "publisher: skipped an unreadable reply at offset %s: %s",
                        message.offset,
                        str(exc).splitlines()[0],
                    )
                else:
                    try:
                        publisher.handle(reply)
                    except ForgedReply as exc:
                        log.warning(
                            "publisher: refused reply %s at offset %s: %s",
                            exc.reply_id,
                            message.offset,
                            exc.reason,
                        )
                consumer.commit()
                if stop.is_set():
                    break
    finally:
        consumer.close()
        engine.dispose()
