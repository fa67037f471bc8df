"""The survey end to end, through the real commands and the fake VK and X: a case resolved on the
desk gets its question posted once by `mentiondesk publisher`; the customer's answer, added to the
fake network, comes back through `mentiondesk collect --once` and the worker's persist step and
after-save sync pass (sentiment.persistence.MentionWriter with desk.services.sync.sync_threads, as
the worker runs them; the scores are fixed here, the model is not under test), is read, keeps the
case resolved, and shows in the figures."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.brands import load_config
from core.bus.producer import ensure_topics
from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Author, Mention, Thread
from core.db.models_ingest import Reply
from core.db.models_surveys import Survey
from core.settings import Settings
from desk.services.satisfaction import summarise
from desk.services.survey_questions import question_text
from desk.services.survey_records import load_survey_records
from desk.services.surveys import SurveyPolicy
from desk.services.sync import sync_threads
from desk.services.thread_view import get_thread
from desk.services.threads import set_status
from mentiondesk.broker import EmbeddedBroker
from schemas import Mention as RawMention
from schemas import ScoredMention, topics
from sentiment.persistence import MentionWriter
from tests.desk_support import actor, setup_desk
from tests.factories import label_for
from tests.fakes.twitter_server import FakeTwitter
from tests.fakes.twitter_server import generate as generate_x
from tests.fakes.vk_server import FakeVk
from tests.fakes.vk_server import generate as generate_vk
from tests.integration.collect_support import read_mentions, start_cli
from tests.integration.posting_support import x_posting
from tests.support import wait_until, worker_env

pytestmark = pytest.mark.pipeline

CONFIG = """
[[brands]]
name = "acme"
queries = ["acme"]
keywords = ["acme"]
vk = { communities = [1001] }
twitter = { handles = ["acme"] }

[brands.survey]
vk = "csat"
twitter = "both"
"""
VK_THREAD = "vk:wall-1001_101"  # the community's first post, with its customers' comments
ANSWERS = {"vk": ("5, спасибо!", 5, None), "twitter": ("@acme 5 и 10", 5, 10)}


def _scored(mention: RawMention) -> ScoredMention:
    negativity = 0.1
    label, probs = label_for(negativity)
    return ScoredMention(
        **mention.model_dump(),
        negativity=negativity,
        label=label,
        probs=probs,
        model_version="e2e-fixed",
        scored_at=datetime.now(UTC),
    )


def _collect_and_store(env: dict[str, str], bootstrap: str, writer: MentionWriter, log: Path) -> int:
    """`mentiondesk collect --once`, then everything on mentions.raw.v1 through the persist step
    (idempotent: what was stored before is skipped) and the sync pass."""
    run = start_cli(env, log, "collect", "--once")
    assert run.wait(180) == 0, log.read_text()
    outcome = writer.save([_scored(m) for m in read_mentions(bootstrap)])
    writer.sync_if_due(force=True)
    return outcome.inserted


@contextmanager
def _network(kind: str) -> Iterator[tuple[Any, dict[str, str]]]:
    """The fake network with its collector and posting settings."""
    if kind == "vk":
        with FakeVk(generate_vk({"acme": 1001}, per_brand=40, wall_posts=3), tokens=["vk-post"]) as vk:
            yield vk, {"MD_VK_TOKEN": "vk-post", "MD_VK_API_URL": vk.api_url, "MD_VK_RPS_DELAY": "0"}
    else:
        with FakeTwitter(generate_x({"acme": "101"}, per_brand=8), me="101") as tw:
            yield (
                tw,
                {
                    "MD_TWITTER_BEARER_TOKEN": "tw-test-bearer",
                    "MD_TWITTER_API_URL": tw.url,
                    **x_posting(tw),
                },
            )


def _thread(session: Session, kind: str) -> Thread:
    if kind == "vk":
        return session.scalars(select(Thread).where(Thread.thread_key == VK_THREAD)).one()
    # the X conversation whose customer wrote last (the generator's first conversation)
    return session.scalars(
        select(Thread).where(Thread.source == "twitter").order_by(Thread.first_message_at).limit(1)
    ).one()


def _questions(fake: Any, kind: str, text: str) -> list[dict[str, Any]]:
    """The question as the fake network holds it (every copy)."""
    if kind == "vk":
        return [c for top in fake.data.comments.values() for c in top if c.get("text") == text]
    return [t for t in fake.data.tweets.values() if t["author_id"] == "101" and t["text"] == text]


def _answer(fake: Any, kind: str, author: str, question: dict[str, Any], text: str) -> None:
    """The customer answers under the question, on the network."""
    if kind == "vk":
        fake.data.add_comment(question["owner_id"], question["post_id"], int(author), text)
    else:
        fake.data.add_tweet(author, text, time.time(), question["id"])


@pytest.mark.parametrize("kind", ["vk", "twitter"])
def test_a_resolved_case_is_surveyed_once_and_the_answer_reaches_the_figures(
    kind: str, broker: EmbeddedBroker, sqlite_url: str, tmp_path: Path
) -> None:
    ensure_topics(broker.bootstrap, 2, [topics.MENTIONS_RAW, topics.REPLIES_OUTBOUND])
    config = tmp_path / "brands.toml"
    config.write_text(CONFIG, encoding="utf-8")
    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    sessions: sessionmaker[Session] = make_session_factory(engine)
    setup_desk(sessions)
    writer = MentionWriter(sessions, after_save=sync_threads, sync_interval_s=0)
    policy = SurveyPolicy.from_config(load_config(config), Settings())
    started = datetime.now(UTC) - timedelta(minutes=1)
    try:
        with _network(kind) as (fake, network_env):
            env = worker_env(
                broker.bootstrap,
                sqlite_url,
                MD_CONFIG=str(config),
                MD_POLL_INTERVAL_S="3600",
                MD_PUBLISHER_GROUP=f"survey-{kind}",
                **network_env,
            )
            assert _collect_and_store(env, broker.bootstrap, writer, tmp_path / "collect-1.log") > 0

            with sessions() as session:  # an agent resolves the case on the desk
                thread = _thread(session, kind)
                thread_id, thread_key = thread.id, thread.thread_key
                set_status(session, actor("anna"), thread_id, "resolved", surveys=policy)
                session.commit()
                survey = session.scalars(select(Survey)).one()
                survey_id, reply_id, author = survey.id, survey.reply_id, survey.author
            text = question_text("csat" if kind == "vk" else "both", "ru")

            publisher = start_cli(env, tmp_path / "publisher.log", "publisher")
            try:

                def posted() -> bool:
                    with sessions() as session:
                        return session.get_one(Reply, reply_id).status == "sent"

                assert wait_until(posted, timeout=90), (tmp_path / "publisher.log").read_text()
                with sessions() as session:  # resolved again: still one question for this cycle
                    set_status(session, actor("anna"), thread_id, "resolved", surveys=policy)
                    session.commit()
                time.sleep(3)  # the relay and the publisher keep running: nothing more is posted
            finally:
                publisher.send_signal(signal.SIGTERM)
                publisher.wait(30)
            [question] = _questions(fake, kind, text)
            posted_calls = fake.create_calls if kind == "vk" else len(fake.posted)
            assert posted_calls == 1, "the network received exactly one question"

            time.sleep(1.1)  # the network's clock has seconds: the answer comes after the question
            _answer(fake, kind, author, question, ANSWERS[kind][0])
            _collect_and_store(env, broker.bootstrap, writer, tmp_path / "collect-2.log")
    finally:
        engine.dispose()

    engine = make_engine(sqlite_url)
    try:
        with make_session_factory(engine)() as session:
            survey = session.get_one(Survey, survey_id)
            answer = session.get_one(Mention, survey.answer_mention_id)
            answerer = session.get_one(Author, answer.author_id)
            thread, desk = get_thread(session, thread_id)
            # the question came back through the collector too, as the brand account's message
            brought_back = session.scalars(
                select(Mention).where(Mention.thread_id == thread_id, Mention.text == text)
            ).all()
            records = load_survey_records(session, started, datetime.now(UTC) + timedelta(minutes=1))
    finally:
        engine.dispose()
    _, csat, nps = ANSWERS[kind]
    assert (survey.status, survey.csat, survey.nps, survey.read_by) == ("answered", csat, nps, "parser")
    assert answer.thread_key == thread_key and answerer.author_id == author
    assert [m.is_brand for m in brought_back] == [True]
    assert thread.status == "resolved" and desk is not None and desk.cycle == 1, "the answer did not reopen"
    assert [(r.survey_id, r.csat, r.nps, r.source) for r in records] == [
        (survey_id, csat, nps, "vk" if kind == "vk" else "twitter")
    ]
    figures = summarise(records)
    assert figures.csat == pytest.approx(1.0)
    assert figures.response_rate == pytest.approx(1.0)
    if nps is not None:
        assert figures.nps == pytest.approx(100.0)
