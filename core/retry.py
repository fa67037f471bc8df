"""The one retry loop for writes that must not be dropped: wait with a growing delay and try again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import TypeVar

T = TypeVar("T")

FIRST_DELAY_S = 0.5
MAX_DELAY_S = 30.0


async def until_done(
    executor: Executor, call: Callable[[], T], what: str, log: logging.Logger, max_delay: float = MAX_DELAY_S
) -> T:
    """Run `call` in `executor` until it returns; each failure is logged and retried after a delay
    that doubles up to `max_delay`. A database outage pauses the caller's stream; it loses nothing."""
    loop = asyncio.get_running_loop()
    delay = FIRST_DELAY_S
    while True:
        try:
            return await loop.run_in_executor(executor, call)
        except Exception as exc:
            log.error("%s failed (%s); retrying in %.1fs", what, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


async def until_sent(
    send: Callable[[], Awaitable[T]], what: str, log: logging.Logger, max_delay: float = MAX_DELAY_S
) -> T:
    """Await `send()` until it completes; each failure is logged and the whole send retried after a
    delay that doubles up to `max_delay`.

    For a stream agent's output: an exception that escaped the agent would stop it for good while
    the worker process stays up (Faust logs the crash and the partition is read no more). Sending
    again is safe where the receiver is idempotent (scored mentions are keyed by source and id)."""
    delay = FIRST_DELAY_S
    while True:
        try:
            return await send()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("%s failed (%s); retrying in %.1fs", what, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
