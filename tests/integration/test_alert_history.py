"""What the spike detector rebuilds from after a restart: the stored history, and only what was
stored before the worker started (what it stores itself reaches the detector through the stream)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from core.db.repository import persist_batch
from sentiment.alert_history import history_points
from tests.factories import BASE_TIME, scored_mention


def test_history_is_what_was_stored_before_the_worker_started(sessions: sessionmaker[Session]) -> None:
    earlier = [scored_mention(f"old{i}", created_at=BASE_TIME + timedelta(minutes=i)) for i in range(5)]
    answer = scored_mention("ours", created_at=BASE_TIME + timedelta(minutes=6), is_brand=True)
    persist_batch(sessions, [*earlier, answer])
    time.sleep(0.01)
    started = datetime.now(UTC)
    time.sleep(0.01)
    # Stored by the started worker itself, dated both inside and after the earlier mentions' hour.
    own = [scored_mention(f"new{i}", created_at=BASE_TIME + timedelta(minutes=2 * i)) for i in range(5)]
    persist_batch(sessions, own)

    with sessions() as session:
        points, alerted = history_points(session, timedelta(hours=26), stored_before=started)
        everything, _ = history_points(session, timedelta(hours=26), stored_before=datetime.now(UTC))
    assert [p.mention_id for p in points] == [f"vk:old{i}" for i in range(5)]  # the brand's answer left out
    assert alerted == []
    assert len(everything) == 10
