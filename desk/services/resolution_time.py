"""When a case was resolved, for the time-to-resolve KPI.

A case's resolution time is the last desk status change to resolved or closed (the audit log's
`status` entries; a merge into another case is not a resolution). Time to resolve runs from the
case's first customer message to then, in business hours like the first-response time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models_desk import AuditEntry

RESOLVED = ("resolved", "closed")
_CHUNK = 900  # bound parameters per query (SQLite's limit is far above; PostgreSQL's too)


def resolved_at(session: Session, thread_ids: Iterable[int]) -> dict[int, datetime]:
    """Per thread, when the desk last set it resolved or closed (threads never resolved: absent)."""
    ids = sorted(set(thread_ids))
    out: dict[int, datetime] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = session.execute(
            select(AuditEntry.thread_id, AuditEntry.at, AuditEntry.detail).where(
                AuditEntry.action == "status", AuditEntry.thread_id.in_(chunk)
            )
        )
        for thread_id, at, detail in rows:
            if thread_id is None or (detail or {}).get("new") not in RESOLVED:
                continue
            if thread_id not in out or at > out[thread_id]:
                out[thread_id] = at
    return out
