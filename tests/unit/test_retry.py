"""The retry loop of a stream agent's output: a refused send is sent again, never dropped."""

from __future__ import annotations

import asyncio
import logging

import pytest

from core.retry import until_sent


def test_a_send_the_broker_refuses_twice_is_sent_again_until_it_is_acknowledged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempts: list[int] = []

    async def send() -> str:
        attempts.append(len(attempts) + 1)
        if len(attempts) < 3:
            raise ConnectionError("broker gone")
        return "acknowledged"

    with caplog.at_level(logging.ERROR):
        result = asyncio.run(
            until_sent(send, "sending 3 scored mentions", logging.getLogger("t"), max_delay=0.6)
        )
    assert result == "acknowledged"
    assert attempts == [1, 2, 3]
    assert sum("sending 3 scored mentions failed (broker gone)" in r.message for r in caplog.records) == 2


def test_a_stopping_worker_is_not_held_by_the_retry_loop() -> None:
    async def send() -> None:
        raise ConnectionError("broker gone")

    async def main() -> None:
        task = asyncio.ensure_future(until_sent(send, "sending", logging.getLogger("t")))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
