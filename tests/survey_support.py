"""Helpers of the survey tests: a case on the desk, resolved with a survey policy, the question
posted (as the publisher records it) and collected back, the customer writing in the thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.brands import SurveyOptions
from core.db.models import Thread
from core.db.models_surveys import Survey
from core.db.repository_ingest import apply_reply_result
from desk.services.reply_outcome import settle_result
from desk.services.survey_questions import question_text
from desk.services.surveys import SurveyPolicy
from desk.services.sync import sync_threads
from desk.services.thread_view import get_thread
from desk.services.threads import set_status
from schemas import ReplyResult
from tests.desk_support import actor, save
from tests.factories import scored_mention

T0 = datetime(2026, 10, 6, 10, 0, tzinfo=UTC)  # a Tuesday, inside the UTC calendar's working day
POLICY = SurveyPolicy(brands={"acme": SurveyOptions(vk="csat", twitter="both")})
NO_COOLDOWN = SurveyPolicy(brands=POLICY.brands, author_cooldown=timedelta(0))


def sync(sessions: sessionmaker[Session], now: datetime) -> None:
    with sessions.begin() as session:
        sync_threads(session, now)


def case(
    sessions: sessionmaker[Session],
    key: str,
    *,
    author: str = "cust1",
    source: str = "vk",
    lang: str = "ru",
    at: datetime = T0,
    answered: bool = True,
) -> int:
    """A customer's complaint (and the brand's one answer), synced onto the desk; its thread id."""
    post = scored_mention(
        f"{key}-p",
        thread_key=key,
        source=source,
        author_id=author,
        text="Заказ не пришёл" if lang == "ru" else "My order never came",
        negativity=0.8,
        created_at=at,
        lang=lang,
    )
    mentions = [post]
    if answered:
        mentions.append(
            scored_mention(
                f"{key}-b",
                parent=post,
                author_id="acme-official",
                is_brand=True,
                text="Нашли, отправили сегодня",
                negativity=0.1,
                created_at=at + timedelta(minutes=20),
            )
        )
    save(sessions, mentions)
    sync(sessions, at + timedelta(minutes=30))
    with sessions() as session:
        return int(session.scalar(select(Thread.id).where(Thread.thread_key == key)) or 0)


def resolve(
    sessions: sessionmaker[Session], thread_id: int, now: datetime, policy: SurveyPolicy = POLICY
) -> None:
    with sessions() as session:
        set_status(session, actor("anna"), thread_id, "resolved", now, surveys=policy)
        session.commit()


def surveys(sessions: sessionmaker[Session], thread_id: int | None = None) -> list[Survey]:
    with sessions() as session:
        stmt = select(Survey).order_by(Survey.id)
        if thread_id is not None:
            stmt = stmt.where(Survey.thread_id == thread_id)
        return list(session.scalars(stmt))


def posted(sessions: sessionmaker[Session], survey: Survey, at: datetime, *, collected: bool = True) -> None:
    """What the publisher does with the question (sent, its result settled), and the collector
    bringing it back as the brand account's message in the thread."""
    assert survey.reply_id is not None
    with sessions() as session:
        result = ReplyResult(
            reply_id=survey.reply_id, status="sent", external_id=f"q-{survey.id}", url=None, at=at
        )
        apply_reply_result(session, result)
        settle_result(session, result)
        session.commit()
        thread = session.get_one(Thread, survey.thread_id)
        key, source = thread.thread_key, thread.source
    if collected:
        save(
            sessions,
            [
                scored_mention(
                    f"q-{survey.id}",
                    source=source,
                    thread_key=key,
                    parent_external_id=f"{key}-p",
                    author_id="acme-official",
                    is_brand=True,
                    text=question_text("csat", "ru"),
                    negativity=0.05,
                    created_at=at,
                )
            ],
        )
        sync(sessions, at + timedelta(seconds=30))


def says(
    sessions: sessionmaker[Session],
    thread_id: int,
    text: str,
    at: datetime,
    *,
    author: str = "cust1",
    negativity: float = 0.2,
) -> None:
    with sessions() as session:
        thread = session.get_one(Thread, thread_id)
        key, source = thread.thread_key, thread.source
    save(
        sessions,
        [
            scored_mention(
                f"{key}-{at.timestamp():.0f}-{author}",
                source=source,
                thread_key=key,
                parent_external_id=f"{key}-p",
                author_id=author,
                text=text,
                negativity=negativity,
                created_at=at,
            )
        ],
    )
    sync(sessions, at + timedelta(minutes=1))


def state(sessions: sessionmaker[Session], thread_id: int) -> tuple[str, int, datetime | None]:
    with sessions() as session:
        thread, desk = get_thread(session, thread_id)
        assert desk is not None
        return thread.status, desk.cycle, desk.first_response_at
