"""Replay a file of mentions (JSONL or CSV) as if they were arriving now.

Columns: `text` (required); `id`, `created_at`, `author`, `source`, `thread_id`, `parent_id`, `lang`
(optional). A row that cannot be read is reported with its line number and skipped.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.tabular import read_rows
from schemas import Author, Mention
from schemas.base import utc_now

log = logging.getLogger(__name__)

LANGS = {"ru", "en", "other"}


@dataclass
class ReplayStats:
    read: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def skip(self, where: str, reason: str) -> None:
        self.skipped += 1
        message = f"{where}: {reason}"
        if len(self.errors) < 100:
            self.errors.append(message)
        log.warning("replay skipped %s", message)


def _parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text_id(text: str, number: int) -> str:
    return hashlib.sha1(f"{number}:{text}".encode()).hexdigest()[:16]


def row_to_mention(
    row: dict[str, Any], number: int, *, keep_timestamps: bool, now: datetime, loop_index: int = 0
) -> Mention:
    """One file row as a Mention. Ids are stable, so replaying a file twice adds nothing new."""
    text = str(row.get("text") or "").strip()
    if not text:
        raise ValueError("empty `text`")
    suffix = f"~{loop_index}" if loop_index else ""
    external_id = str(row.get("id") or _text_id(text, number)) + suffix
    source = str(row.get("source") or "replay")
    thread_id = row.get("thread_id") or row.get("parent_id") or row.get("id") or external_id
    parent = row.get("parent_id")
    author = str(row.get("author") or "anonymous")
    lang = row.get("lang") if row.get("lang") in LANGS else None
    created = _parse_time(row.get("created_at")) if keep_timestamps else None
    return Mention(
        source=source,
        external_id=external_id,
        thread_key=f"{source}:{thread_id}{suffix}",
        parent_external_id=f"{parent}{suffix}" if parent else None,
        author=Author(id=author, name=author),
        text=text,
        lang=lang,
        created_at=created or now,
        collected_at=now,
    )


def read_mentions(
    path: Path,
    *,
    keep_timestamps: bool = False,
    loop_index: int = 0,
    stats: ReplayStats | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Iterator[Mention]:
    """Mentions of a file, in file order; each stamped with the time it is read unless kept."""
    stats = stats if stats is not None else ReplayStats()
    for number, row in read_rows(path, stats.skip):
        try:
            mention = row_to_mention(
                row, number, keep_timestamps=keep_timestamps, now=clock(), loop_index=loop_index
            )
        except (ValueError, ValidationError) as exc:
            stats.skip(f"{path.name}:{number}", str(exc).splitlines()[0])
            continue
        stats.read += 1
        yield mention


def replay(
    path: Path,
    sink: Callable[[Mention], None],
    *,
    rate: float | None = None,
    loop: bool = False,
    keep_timestamps: bool = False,
    stats: ReplayStats | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> ReplayStats:
    """Feed the file's mentions to `sink`, at `rate` per second (as fast as possible if None)."""
    stats = stats if stats is not None else ReplayStats()
    interval = 1.0 / rate if rate else 0.0
    loop_index = 0
    next_at = time.monotonic()
    while True:
        for mention in read_mentions(
            path, keep_timestamps=keep_timestamps, loop_index=loop_index, stats=stats
        ):
            if should_stop():
                return stats
            if interval:
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                next_at = max(next_at + interval, time.monotonic() - 1.0)
            sink(mention)
        loop_index += 1
        if not loop or should_stop():
            return stats
