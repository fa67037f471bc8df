"""A batch with one row the database refuses: the rest is stored, the bad row is reported, on
SQLite and PostgreSQL.

The poisoned rows bypass the contract (`model_copy` does not validate), as a row would that a
contract out of step with the columns let through; on the wire the contract refuses them already
(tests/unit/test_contracts.py, tests/integration/test_poison_pipeline.py).
"""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.db.models import Mention
from schemas import Metrics, ScoredMention
from sentiment.persistence import MentionWriter
from tests.factories import scored_mention


def _stored(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        return set(session.scalars(select(Mention.external_id)))


def _poisoned(external_id: str, dialect: str) -> ScoredMention:
    good = scored_mention(external_id)
    if dialect == "postgresql":
        # PostgreSQL refuses NUL in text; SQLite stores it, so there the counter does the job.
        return good.model_copy(update={"text": "bad\x00text"})
    return good.model_copy(update={"metrics": Metrics.model_construct(likes=2**70)})


def test_a_poisoned_row_is_set_aside_and_the_rest_of_the_batch_is_stored(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    batch = [scored_mention(f"ok-{i}") for i in range(20)]
    batch.insert(7, _poisoned("bad-1", engine.dialect.name))
    batch.insert(
        15, scored_mention("bad-2").model_copy(update={"metrics": Metrics.model_construct(views=2**70)})
    )
    writer = MentionWriter(sessions)

    outcome = writer.save(batch)

    assert outcome.inserted == 20
    assert sorted(m.external_id for m, _ in outcome.refused) == ["bad-1", "bad-2"]
    assert all(reason.startswith("database refused the mention") for _, reason in outcome.refused)
    assert _stored(sessions) == {f"ok-{i}" for i in range(20)}

    # Idempotent: the same batch again (a redelivery) adds nothing and reports the same rows.
    again = writer.save(batch)
    assert again.inserted == 0
    assert sorted(m.external_id for m, _ in again.refused) == ["bad-1", "bad-2"]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 20


def test_a_transient_error_is_raised_for_the_caller_to_retry(sessions: sessionmaker[Session]) -> None:
    calls: list[int] = []

    def broken() -> Session:
        calls.append(1)
        raise OperationalError("connect", {}, Exception("server closed the connection unexpectedly"))

    writer = MentionWriter(cast("sessionmaker[Session]", broken))
    with pytest.raises(OperationalError):
        writer.save([scored_mention(f"t-{i}") for i in range(8)])
    assert len(calls) == 1  # not narrowed: the whole batch waits and is retried
    # The same batch, once the database is back, is stored whole.
    assert MentionWriter(sessions).save([scored_mention(f"t-{i}") for i in range(8)]).inserted == 8
