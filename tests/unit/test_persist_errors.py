"""Which database errors are the data's fault (narrow the batch) and which are transient (retry)."""

import pytest
from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StatementError,
)

from core.db.repository import is_poison


@pytest.mark.parametrize(
    "exc",
    [
        DataError("INSERT", {}, Exception("integer out of range")),
        DataError("INSERT", {}, Exception("PostgreSQL text fields cannot contain NUL (0x00) bytes")),
        IntegrityError("INSERT", {}, Exception("value too long")),
        StatementError("bind failed", "INSERT", {}, OverflowError("int too large")),
        OverflowError("Python int too large to convert to SQLite INTEGER"),
    ],
)
def test_refused_values_are_poison(exc: BaseException) -> None:
    assert is_poison(exc)


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly")),
        OperationalError("INSERT", {}, Exception("canceling statement due to lock timeout")),
        OperationalError("INSERT", {}, Exception("database is locked")),
        InterfaceError("INSERT", {}, Exception("connection already closed")),
        ProgrammingError("INSERT", {}, Exception('relation "mentions" does not exist')),
        ConnectionError("refused"),
        RuntimeError("anything unknown"),
    ],
)
def test_everything_else_is_transient(exc: BaseException) -> None:
    assert not is_poison(exc)
