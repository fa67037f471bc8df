"""The worker's agent for reply results: replies.result.v1 -> the `replies` table.

Idempotent on reply_id (a final status stays final, see apply_reply_result), so redelivery after a
restart changes nothing. Imported by the worker next to sentiment.agents.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from desk.store.engine import make_engine, make_session_factory, migrate
from desk.store.repository_ingest import apply_reply_result
from schemas import ReplyResult, topics
from sentiment.app import app, settings

log = logging.getLogger(__name__)

reply_results = app.topic(
    topics.REPLIES_RESULT, value_type=bytes, value_serializer="raw", key_type=bytes, key_serializer="raw"
)
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="md-replies")
_sessions: list[sessionmaker[Session]] = []


def _save(results: Sequence[ReplyResult]) -> int:
    if not _sessions:
        migrate(settings.database_url)
        _sessions.append(make_session_factory(make_engine(settings.database_url)))
    known = 0
    with _sessions[0]() as session:
        for result in results:
            known += apply_reply_result(session, result)
        session.commit()
    return known


@app.agent(reply_results)
async def reply_result_agent(stream: AsyncIterable[Any]) -> None:
    """Write every reply result; a database outage pauses the stream and loses nothing."""
    loop = asyncio.get_running_loop()
    async for values in stream.take(100, within=settings.batch_window_s):  # type: ignore[attr-defined]
        results = []
        for value in values:
            try:
                results.append(ReplyResult.model_validate_json(value))
            except ValidationError as exc:
                log.warning("unreadable reply result skipped: %s", str(exc).splitlines()[0])
        delay = 0.5
        while results:
            try:
                known = await loop.run_in_executor(_executor, _save, results)
                if known < len(results):
                    log.warning("%d reply results for replies unknown here", len(results) - known)
                break
            except Exception as exc:
                log.error("saving %d reply results failed (%s); retrying in %.1fs", len(results), exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
