"""Asking for the customer's verdict when a case is resolved: CSAT (1-5), NPS (0-10) or both.

When a case becomes resolved (`threads.set_status`), `ask_after_resolve` posts the brand and
channel's survey question in the thread as an ordinary desk reply: recorded with its outbox row in
the resolving transaction, handed over by the relay, posted by `mentiondesk publisher` with its
guarantees (one post per reply id, looked up on the network before a retry). It asks at most once per
case and cycle (the unique (thread, cycle) of `surveys`: a double resolve or two desks resolving at
once insert one row, the other gets nothing back and queues nothing), never on review sites, never an
author who opted out or was asked within the cooldown.

The question is not the agent's answer: settlement (reply_outcome), the sync pass and the KPIs leave
it out (desk.services.survey_links). Answers are read by desk.services.survey_intake.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.brands import BrandsConfig, ConfigError, SurveyMode, SurveyOptions, load_config
from core.db.models import Author, Mention, Thread
from core.db.models_desk import DeskThread
from core.db.models_surveys import Survey, SurveyOptOut
from core.db.repository_ingest import queue_reply
from core.settings import Settings
from desk.services import audit
from desk.services.auth import Actor, check
from desk.services.survey_questions import question_lang, question_text
from schemas import Reply

log = logging.getLogger(__name__)

DEFAULT_COOLDOWN = timedelta(days=30)
DEFAULT_ANSWER_WINDOW = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class SurveyPolicy:
    """Which survey each brand's channels take, and the two periods (from the settings)."""

    brands: Mapping[str, SurveyOptions] = field(default_factory=dict)
    author_cooldown: timedelta = DEFAULT_COOLDOWN
    answer_window: timedelta = DEFAULT_ANSWER_WINDOW

    def mode(self, brand: str | None, source: str) -> SurveyMode:
        options = self.brands.get(brand) if brand is not None else None
        return options.mode(source) if options is not None else "off"

    @classmethod
    def from_config(cls, config: BrandsConfig | None, settings: Settings) -> SurveyPolicy:
        return cls(
            brands={b.name: b.survey for b in config.brands} if config is not None else {},
            author_cooldown=timedelta(days=settings.survey_author_cooldown_days),
            answer_window=timedelta(hours=settings.survey_answer_window_h),
        )


def load_policy(settings: Settings) -> SurveyPolicy:
    """The policy of the brands config `MD_CONFIG` (none or an unreadable one: no surveys)."""
    config = None
    if settings.config is not None:
        try:
            config = load_config(settings.config)
        except ConfigError as exc:
            log.warning("no satisfaction surveys: %s", exc)
    return SurveyPolicy.from_config(config, settings)


def _insert(session: Session, table: Any) -> Any:
    return pg_insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite_insert(table)


def _customer(session: Session, thread_id: int) -> tuple[Mention, Author] | None:
    """The latest message by a customer in the thread, and its author: whom the question goes to."""
    row = session.execute(
        select(Mention, Author)
        .join(Author, Author.id == Mention.author_id)
        .where(Mention.thread_id == thread_id, Mention.is_brand.is_(False))
        .order_by(Mention.created_at.desc(), Mention.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def opted_out(session: Session, source: str, author: str) -> bool:
    return session.get(SurveyOptOut, (source, author)) is not None


def asked_recently(session: Session, source: str, author: str, since: datetime) -> bool:
    found = session.scalar(
        select(Survey.id)
        .where(Survey.source == source, Survey.author == author, Survey.asked_at > since)
        .limit(1)
    )
    return found is not None


def ask_after_resolve(  # noqa: PLR0917  (the resolving action's own arguments, in its order)
    session: Session, agent: str, thread: Thread, desk: DeskThread, policy: SurveyPolicy, now: datetime
) -> Survey | None:
    """Queue the survey question of a case just resolved, in the caller's transaction (no commit);
    None when the case takes no survey now. `agent` is the desk user the reply is posted as."""
    kind = policy.mode(thread.brand, thread.source)
    if kind == "off":
        return None
    found = _customer(session, thread.id)
    if found is None:
        return None
    mention, author = found
    if opted_out(session, thread.source, author.author_id):
        return None
    if asked_recently(session, thread.source, author.author_id, now - policy.author_cooldown):
        return None
    lang = question_lang(thread.lang or mention.lang)
    table = Survey.__table__
    inserted = session.execute(
        _insert(session, table)
        .values(
            thread_id=thread.id,
            cycle=desk.cycle,
            brand=thread.brand,
            source=thread.source,
            kind=kind,
            lang=lang,
            author=author.author_id,
            author_ref=author.id,
            agent=thread.assigned_to,
            team=desk.team,
            asked_at=now,
            expires_at=now + policy.answer_window,
            status="asked",
            reopens=False,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["thread_id", "cycle"])
        .returning(table.c.id)
    ).scalar()
    if inserted is None:  # this cycle was asked already (a double resolve, or another desk)
        return None
    reply = Reply(
        reply_id=uuid.uuid4(),
        thread_key=thread.thread_key,
        in_reply_to=mention.external_id,
        source=thread.source,
        text=question_text(kind, lang),
        agent=agent,
        created_at=now,
    )
    queue_reply(session, reply)
    session.flush()
    session.execute(
        update(Survey)
        .where(Survey.id == inserted)
        .values(reply_id=str(reply.reply_id))
        .execution_options(synchronize_session=False)
    )
    audit.record(session, agent, "survey_asked", thread.id, at=now, kind=kind, reply_id=str(reply.reply_id))
    return session.get(Survey, inserted)


def opt_out(session: Session, actor: Actor, thread_id: int, now: datetime) -> bool:
    """Never ask the author of the thread's latest customer message again (does not commit);
    False when they had opted out already."""
    check(actor, "thread.note")
    thread = session.get(Thread, thread_id)
    if thread is None:
        raise LookupError(f"no thread {thread_id}")
    found = _customer(session, thread_id)
    if found is None:
        raise ValueError("the thread has no customer message")
    author = found[1]
    if opted_out(session, thread.source, author.author_id):
        return False
    session.add(
        SurveyOptOut(source=thread.source, author=author.author_id, set_by=actor.username, created_at=now)
    )
    audit.record(session, actor.username, "survey_opt_out", thread_id, at=now, author=author.author_id)
    return True


def author_opted_out(session: Session, thread_id: int) -> bool:
    """Whether the thread's customer is marked as not to be asked (for the thread page)."""
    thread = session.get(Thread, thread_id)
    found = _customer(session, thread_id)
    return thread is not None and found is not None and opted_out(session, thread.source, found[1].author_id)


def thread_surveys(session: Session, thread_id: int) -> list[Survey]:
    """The thread's surveys, latest cycle first (for the thread page)."""
    return list(
        session.scalars(select(Survey).where(Survey.thread_id == thread_id).order_by(Survey.cycle.desc()))
    )


__all__ = [
    "SurveyPolicy",
    "ask_after_resolve",
    "asked_recently",
    "author_opted_out",
    "load_policy",
    "opt_out",
    "opted_out",
    "thread_surveys",
]
