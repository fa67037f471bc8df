"""The audit log: every assignment, reply, status change, merge and correction, with who and when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models_desk import AuditEntry


def record(
    session: Session,
    actor: str,
    action: str,
    thread_id: int | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> None:
    """Add one entry in the caller's transaction, so the entry and the change commit together."""
    session.add(
        AuditEntry(at=at or datetime.now(UTC), actor=actor, action=action, thread_id=thread_id, detail=detail)
    )


def entries(
    session: Session, *, thread_id: int | None = None, actions: Sequence[str] = (), limit: int = 500
) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if thread_id is not None:
        stmt = stmt.where(AuditEntry.thread_id == thread_id)
    if actions:
        stmt = stmt.where(AuditEntry.action.in_(actions))
    return list(session.scalars(stmt))
