"""The outbox relay against the real broker: a row that can never be sent is set aside with its
reason and holds up none of the replies due with it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from core.bus.producer import ensure_topics
from core.bus.relay import SET_ASIDE, OutboxRelay
from core.db.models_ingest import ReplyOutbox
from core.db.repository_ingest import queue_reply
from mentiondesk.broker import EmbeddedBroker
from schemas import Reply
from schemas.topics import REPLIES_OUTBOUND
from tests.integration.collect_support import read_topic


def _reply(n: int) -> Reply:
    return Reply(
        reply_id=uuid.uuid4(),
        thread_key=f"vk:{n}",
        in_reply_to=f"-1_{n}",
        source="vk",
        text="Ок",
        agent="anna",
    )


def test_an_unsendable_row_is_set_aside_and_the_others_go(
    broker: EmbeddedBroker, sessions: sessionmaker[Session]
) -> None:
    ensure_topics(broker.bootstrap, 1)
    replies = [_reply(n) for n in range(3)]
    with sessions() as session:
        for reply in replies:
            queue_reply(session, reply)
        broken = str(replies[1].reply_id)
        session.execute(update(ReplyOutbox).where(ReplyOutbox.reply_id == broken).values(payload="{not json"))
        session.commit()
    now = datetime.now(UTC) + timedelta(seconds=1)
    relay = OutboxRelay(sessions, broker.bootstrap, redeliver_after=timedelta(minutes=1), clock=lambda: now)
    try:
        assert relay.run_once() == 2
    finally:
        relay.close()
    sent = {
        str(Reply.model_validate_json(v).reply_id) for v in read_topic(broker.bootstrap, REPLIES_OUTBOUND)
    }
    assert sent == {str(replies[0].reply_id), str(replies[2].reply_id)}
    with sessions() as session:
        row = session.get(ReplyOutbox, broken)
        assert row is not None and row.published_count == 0
        assert row.last_error and row.last_error.startswith("cannot be handed over")
        assert row.due_at == now + SET_ASIDE
