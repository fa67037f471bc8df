"""A reply's one path, assembled: the desk records it and hands it to the bus, `mentiondesk publisher`
posts it to the network and writes the result into the reply's row, and the thread view shows it.
There is no result topic and no second writer: with the publisher stopped the row stays queued."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from core.bus.producer import ensure_topics, publish_reply
from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Thread
from desk.services.replies import dispatch, send_reply
from desk.services.sync import sync_threads
from desk.services.thread_view import desk_replies, snapshot
from mentiondesk.broker import EmbeddedBroker
from schemas import topics
from tests.desk_support import actor, save, setup_desk
from tests.factories import scored_mention
from tests.fakes.vk_server import FakeVk
from tests.fakes.vk_server import generate as generate_vk
from tests.integration.collect_support import start_cli
from tests.support import wait_until, worker_env

pytestmark = pytest.mark.pipeline

VK_POST, VK_COMMENT = "-1001_101", "-1001_101_10000001"  # the first post of community 1001, its comment


def test_the_desk_sees_the_networks_answer_through_the_publisher_alone(
    broker: EmbeddedBroker, sqlite_url: str, tmp_path: Path
) -> None:
    ensure_topics(broker.bootstrap, 2, [topics.REPLIES_OUTBOUND])
    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    setup_desk(sessions)
    post = scored_mention(VK_POST, thread_key=VK_POST, negativity=0.9, text="Где мой заказ?")
    save(sessions, [post, scored_mention(VK_COMMENT, parent=post, negativity=0.8, text="Уже неделю жду")])
    with sessions.begin() as session:
        sync_threads(session)

    def replies_in_view() -> list[tuple[str, str | None]]:
        with sessions() as session:
            thread = session.scalars(select(Thread)).one()
            return [(r.status, r.url) for r in desk_replies(session, thread)]

    vk_data = generate_vk({"acme": 1001}, per_brand=60, wall_posts=5)
    with FakeVk(vk_data, tokens=["vk-post"]) as vk:
        with sessions() as session:
            thread_id = session.scalars(select(Thread.id)).one()
            opened = snapshot(session, thread_id)
            reply = send_reply(session, actor("anna"), thread_id, "Проверяем ваш заказ", opened)
            assert dispatch(session, reply, lambda r: publish_reply(broker.bootstrap, r))
        time.sleep(2)
        assert replies_in_view() == [("queued", None)], "nothing but the publisher writes a result"

        env = worker_env(
            broker.bootstrap,
            sqlite_url,
            MD_VK_TOKEN="vk-post",
            MD_VK_API_URL=vk.api_url,
            MD_VK_RPS_DELAY="0",
            MD_PUBLISHER_GROUP="reply-path",
        )
        log = tmp_path / "publisher.log"
        publisher = start_cli(env, log, "publisher")
        try:
            assert wait_until(lambda: replies_in_view()[0][0] == "sent", timeout=90), log.read_text()
        finally:
            publisher.send_signal(signal.SIGTERM)
            publisher.wait(30)
    engine.dispose()

    [comment] = vk.created.values()
    assert comment["text"] == "Проверяем ваш заказ" and comment["_reply_to"] == 10000001
    assert replies_in_view() == [("sent", f"https://vk.com/wall-1001_101?reply={comment['id']}")]
