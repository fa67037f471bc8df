"""On SQLite a timestamp is stored as text: the one-step writer must produce exactly the text
SQLAlchemy's DATETIME stores, or rows written by either would not compare in time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.sqlite import DATETIME

from core.db.base import UtcDateTime

MOSCOW = timezone(timedelta(hours=3))


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 3, 9, 5, tzinfo=UTC),
        datetime(2026, 3, 1, 23, 59, 59, 999_999, tzinfo=MOSCOW),
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    ],
)
def test_sqlite_text_is_what_sqlalchemy_stores_for_the_utc_time(value: datetime) -> None:
    written = UtcDateTime().bind_processor(sqlite.dialect())
    reference = DATETIME().bind_processor(sqlite.dialect())  # type: ignore[no-untyped-call]
    assert written is not None and reference is not None
    assert written(value) == reference(value.astimezone(UTC).replace(tzinfo=None))


def test_sqlite_refuses_naive_times_and_passes_none() -> None:
    written = UtcDateTime().bind_processor(sqlite.dialect())
    assert written is not None
    assert written(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        written(datetime(2026, 12, 3, 9, 5))  # noqa: DTZ001 - the point of the test


def test_postgresql_gets_the_aware_utc_time() -> None:
    written = UtcDateTime().bind_processor(postgresql.dialect())  # type: ignore[no-untyped-call]
    value = datetime(2026, 12, 3, 12, 5, tzinfo=MOSCOW)
    assert written is not None
    bound = written(value)
    assert bound == datetime(2026, 12, 3, 9, 5, tzinfo=UTC) and bound.tzinfo is not None
