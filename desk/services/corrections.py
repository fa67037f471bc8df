"""Sentiment corrections: an agent's label for a message, stored for the model to learn from."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import LABELS, Mention
from core.db.models_desk import SentimentCorrection
from core.i18n import _
from desk.services import audit
from desk.services.auth import Actor, check


def correct_label(session: Session, actor: Actor, mention_id: int, label: str) -> SentimentCorrection:
    """Record the corrected label (the mention's own scores stay as the model gave them)."""
    check(actor, "mention.correct")
    if label not in LABELS:
        raise ValueError(_("unknown label {label!r}").format(label=label))
    mention = session.get(Mention, mention_id)
    if mention is None:
        raise LookupError(_("no mention {id}").format(id=mention_id))
    row = SentimentCorrection(
        mention_id=mention.id,
        text=mention.text,
        lang=mention.lang,
        model_label=mention.label,
        model_version=mention.model_version,
        label=label,
        corrected_by=actor.username,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    audit.record(
        session,
        actor.username,
        "correction",
        mention.thread_id,
        mention_id=mention.id,
        old=mention.label,
        new=label,
    )
    return row


def training_examples(session: Session) -> list[tuple[str, str]]:
    """(text, label) pairs, the newest correction of each message winning: what the model learns from."""
    latest: dict[int, tuple[str, str]] = {}
    for row in session.scalars(select(SentimentCorrection).order_by(SentimentCorrection.id)):
        latest[row.mention_id] = (row.text, row.label)
    return list(latest.values())


def correction_rows(session: Session) -> Iterator[dict[str, object]]:
    """Every correction as an export row (oldest first): what `mentiondesk model retrain --corrections`
    reads back, with who corrected what from which model."""
    for row in session.scalars(select(SentimentCorrection).order_by(SentimentCorrection.id)):
        yield {
            "mention_id": row.mention_id,
            "text": row.text,
            "label": row.label,
            "model_label": row.model_label,
            "model_version": row.model_version,
            "lang": row.lang,
            "corrected_by": row.corrected_by,
            "created_at": row.created_at,
        }
