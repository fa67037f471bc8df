"""Survey records for the figures (desk.services.satisfaction): the KPI page, the digest, the CSV
export and the weekly report read surveys through `load_survey_records`.

A record is one survey asked in the period, by `asked_at` in [start, end). `answered_at` is set
when the customer answered (also while an unreadable answer waits for an agent's score; its scores
are None until then); `agent` and `team` are the case's owner and team when it was resolved.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models_surveys import Survey
from desk.services.satisfaction import NO_VALUE, SurveyRecord


def load_survey_records(
    session: Session, start: datetime, end: datetime, brand: str | None = None
) -> list[SurveyRecord]:
    """Every survey asked in [start, end) (of one brand, when given), oldest first."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    stmt = (
        select(Survey)
        .where(Survey.asked_at >= start, Survey.asked_at < end)
        .order_by(Survey.asked_at, Survey.id)
    )
    if brand is not None:
        stmt = stmt.where(Survey.brand == brand)
    return [
        SurveyRecord(
            survey_id=s.id,
            thread_id=s.thread_id,
            brand=s.brand or NO_VALUE,
            source=s.source,
            agent=s.agent,
            team=s.team,
            asked_at=s.asked_at,
            answered_at=s.answered_at,
            csat=s.csat,
            nps=s.nps,
        )
        for s in session.scalars(stmt)
    ]
