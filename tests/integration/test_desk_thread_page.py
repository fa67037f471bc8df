"""The thread page through AppTest, with a real broker: conversation as plain text, templates,
a reply on `replies.outbound.v1`, a stale second reply refused with the reason, presence, notes,
status and corrections."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.bus.producer import ensure_topics
from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Thread
from core.db.models_desk import ReplyTemplate, SentimentCorrection, ThreadNote
from core.db.models_ingest import Reply as ReplyRow
from core.db.repository_ingest import apply_reply_result
from core.settings import get_settings
from desk.services.reply_outcome import settle_result
from desk.services.sync import sync_threads
from mentiondesk.broker import EmbeddedBroker
from schemas import Reply, ReplyResult
from schemas.topics import REPLIES_OUTBOUND
from tests.desk_support import save, setup_desk
from tests.factories import BASE_TIME, scored_mention
from tests.integration.collect_support import read_topic

THREAD_PAGE = Path(__file__).resolve().parents[2] / "desk" / "app_pages" / "thread.py"
TRICKY = "**not bold** <img src=x onerror=alert(1)> [link](http://evil.test)"


@dataclass
class Desk:
    url: str
    bootstrap: str
    thread_id: int


@pytest.fixture
def desk(sqlite_url: str, broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    ensure_topics(broker.bootstrap, 1)
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MD_KAFKA_BOOTSTRAP", broker.bootstrap)
    get_settings.cache_clear()
    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    setup_desk(sessions)
    post = scored_mention(
        "p1", text=TRICKY, negativity=0.9, author_name="Ivan <b>P</b>", created_at=BASE_TIME
    )
    brand = scored_mention(
        "b1", parent=post, is_brand=True, author_id="acme", text="We are sorry", negativity=0.1
    )
    again = scored_mention("c1", parent=post, created_at=BASE_TIME + timedelta(hours=1), text="still broken")
    save(sessions, [post, brand, again])
    with sessions.begin() as session:
        sync_threads(session)
        session.add(
            ReplyTemplate(name="apology", body="Hello {customer_name}, case {case_number}: {unknown}")
        )
    with sessions() as session:
        thread_id = int(session.scalar(select(Thread.id)) or 0)
    engine.dispose()
    yield Desk(sqlite_url, broker.bootstrap, thread_id)
    get_settings.cache_clear()


def _open(desk: Desk, user: str) -> AppTest:
    app = AppTest.from_file(str(THREAD_PAGE), default_timeout=30)
    app.session_state["md_user"] = user
    app.session_state["md_thread"] = desk.thread_id
    return app.run()


def test_conversation_is_plain_text_with_negativity(desk: Desk) -> None:
    app = _open(desk, "anna")
    assert not app.exception
    assert app.header[0].value == f"Case MD-{desk.thread_id:06d}"
    assert [c.value for c in app.code] == [TRICKY, "We are sorry", "still broken"]
    texts = [t.value for t in app.text]
    assert any("customer · Ivan <b>P</b> · negativity 0.90 (negative)" in t for t in texts)
    assert any("BRAND" in t and "negativity 0.10" in t for t in texts)
    for element in [*app.markdown, *app.caption, *app.subheader, *app.header]:
        assert "not bold" not in element.value and "Ivan" not in element.value
    assert len(app.get("vega_lite_chart")) == 1, "the negativity trajectory"
    assert [m.label for m in app.metric] == ["first response", "status update", "resolution"]


def test_template_reply_lands_on_kafka_and_a_stale_one_is_refused(desk: Desk) -> None:
    anna = _open(desk, "anna")
    boris = _open(desk, "boris")  # both have the composer open on the same version
    anna.run()
    assert any("Also viewing this thread: boris" in w.value for w in anna.warning)

    anna.selectbox(key=f"template_{desk.thread_id}").set_value("apology").run()
    draft = anna.text_area(key=f"draft_{desk.thread_id}").value
    assert draft == f"Hello Ivan <b>P</b>, case MD-{desk.thread_id:06d}: {{unknown}}"
    anna.text_area(key=f"draft_{desk.thread_id}").set_value("Hello Ivan, we fixed it")
    anna.button(key=f"send_{desk.thread_id}").click().run()
    assert not anna.exception
    assert [s.value for s in anna.success] == ["Reply queued for sending."]
    assert any(t.value.startswith("reply · anna ·") and "status: queued" in t.value for t in anna.text)
    assert anna.code[0].value == "Hello Ivan, we fixed it", "the desk's replies come first, live"
    [sent] = [
        Reply.model_validate_json(v) for v in read_topic(desk.bootstrap, REPLIES_OUTBOUND, timeout_s=20)
    ]
    assert sent.text == "Hello Ivan, we fixed it" and sent.in_reply_to == "c1" and sent.agent == "anna"

    boris.text_area(key=f"draft_{desk.thread_id}").set_value("Hi! Looking into it")
    boris.button(key=f"send_{desk.thread_id}").click().run()
    assert [e.value for e in boris.error] == [
        "Reply refused: the thread changed since you opened the composer."
    ]
    reasons = [t.value for t in boris.text]
    assert any("anna replied" in r and "Hello Ivan, we fixed it" in r for r in reasons)
    assert len(read_topic(desk.bootstrap, REPLIES_OUTBOUND, timeout_s=10)) == 1, (
        "the stale reply was not sent"
    )

    boris.button(key=f"reload_{desk.thread_id}").click().run()
    assert not boris.error
    boris.text_area(key=f"draft_{desk.thread_id}").set_value("Following up")
    boris.button(key=f"send_{desk.thread_id}").click().run()
    assert [s.value for s in boris.success] == ["Reply queued for sending."]


def test_notes_status_and_corrections(desk: Desk) -> None:
    app = _open(desk, "anna")
    app.text_area[1].set_value("customer called twice")
    app.button(key=f"FormSubmitter:note_form_{desk.thread_id}-Add note").click().run()
    assert not app.exception
    assert any("note · anna" in t.value and "customer called twice" in t.value for t in app.text)
    app.selectbox[1].set_value("resolved")
    app.button(key=f"FormSubmitter:status_form_{desk.thread_id}-Set status").click().run()
    assert any("status resolved" in t.value for t in app.text)
    app.selectbox[-1].set_value("positive")
    app.button(key=f"FormSubmitter:correct_form_{desk.thread_id}-Save correction").click().run()
    engine = make_engine(desk.url)
    with make_session_factory(engine)() as session:
        notes = list(session.scalars(select(ThreadNote.text)))
        corrections = list(session.scalars(select(SentimentCorrection)))
    engine.dispose()
    assert notes == ["customer called twice"]
    assert [(c.label, c.corrected_by, c.model_label) for c in corrections] == [
        ("positive", "anna", "negative")
    ]


def test_a_failed_reply_shows_and_is_sent_again_from_the_thread(desk: Desk) -> None:
    anna = _open(desk, "anna")
    anna.text_area(key=f"draft_{desk.thread_id}").set_value("Refund today")
    anna.button(key=f"send_{desk.thread_id}").click().run()
    engine = make_engine(desk.url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        [row] = session.scalars(select(ReplyRow))
        reply_id = row.reply_id
        result = ReplyResult(
            reply_id=uuid.UUID(reply_id), status="failed", error="VK error 15: access denied"
        )
        apply_reply_result(session, result)
        settle_result(session, result)
    anna.run()
    assert any("status: failed" in t.value and "VK error 15" in t.value for t in anna.text)
    anna.button(key=f"retry_{reply_id}").click().run()
    assert not anna.exception
    with sessions() as session:
        again = session.get(ReplyRow, reply_id)
        assert again is not None and again.status == "queued" and again.error is None
    engine.dispose()
    sent = [Reply.model_validate_json(v) for v in read_topic(desk.bootstrap, REPLIES_OUTBOUND, timeout_s=20)]
    assert [str(r.reply_id) for r in sent] == [reply_id, reply_id], "handed over again"
