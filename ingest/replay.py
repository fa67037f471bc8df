"""Replay a file of mentions (JSONL or CSV) as if they were arriving now.

Columns: `text` (required); `id`, `created_at`, `author`, `source`, `thread_id`, `parent_id`, `lang`
(optional). A row that cannot be read is reported with its line number and skipped.

With a history (`ingest.history`), the file is first laid over the past days, then streamed live.
Ids: a single pass over the file (a plain replay, or the history) keeps the file's ids, so replaying
it again adds nothing; every round of a loop gets fresh ids, unique to the run (`~<run>.<round>`),
so a restarted loop streams new mentions instead of repeating the last run's.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.tabular import TabularFileError, read_rows
from ingest.history import HistoryShape, spread_history
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
    row: dict[str, Any],
    number: int,
    *,
    keep_timestamps: bool,
    now: datetime,
    loop_index: int = 0,
    round_tag: str | None = None,
) -> Mention:
    """One file row as a Mention. Ids are stable, so replaying a file twice adds nothing new; a
    loop's rounds add `~<round_tag>` (or `~<loop_index>`) to ids and threads."""
    text = str(row.get("text") or "").strip()
    if not text:
        raise ValueError("empty `text`")
    suffix = f"~{round_tag}" if round_tag else (f"~{loop_index}" if loop_index else "")
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
    round_tag: str | None = None,
    stats: ReplayStats | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Iterator[Mention]:
    """Mentions of a file, in file order; each stamped with the time it is read unless kept."""
    stats = stats if stats is not None else ReplayStats()
    for number, row in read_rows(path, stats.skip):
        try:
            mention = row_to_mention(
                row,
                number,
                keep_timestamps=keep_timestamps,
                now=clock(),
                loop_index=loop_index,
                round_tag=round_tag,
            )
        except (ValueError, ValidationError) as exc:
            stats.skip(f"{path.name}:{number}", str(exc).splitlines()[0])
            continue
        stats.read += 1
        yield mention


def read_burst_ids(path: Path) -> set[str]:
    """Ids one a line; blank lines and `#` comments are ignored (mentiondesk/demo/burst_ids.txt)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return {line for line in lines if line}


def run_tag(now: datetime) -> str:
    """A short tag of this run (its start second, base 36) for the ids of a loop's rounds."""
    value, digits = int(now.timestamp()), ""
    while True:
        value, digit = divmod(value, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not value:
            return digits


def replay(
    path: Path,
    sink: Callable[[Mention], None],
    *,
    rate: float | None = None,
    loop: bool = False,
    keep_timestamps: bool = False,
    stats: ReplayStats | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    history: HistoryShape | None = None,
    burst_ids: Collection[str] = (),
    clock: Callable[[], datetime] = utc_now,
) -> ReplayStats:
    """Feed the file's mentions to `sink`, at `rate` per second (as fast as possible if None).

    Without `loop`, the file goes out once with its own ids (replaying it again adds nothing). With
    `loop`, it is streamed over and over, every round with fresh ids of this run (`~<run>.<round>`),
    so a restarted loop streams new mentions instead of the last run's again.

    With `history`, the whole file first goes out at once as history (`spread_history`: times over
    the past days, `burst_ids` in one window, the file's own ids); then `loop` streams it live, and
    without `loop` the history is all."""
    stats = stats if stats is not None else ReplayStats()
    interval = 1.0 / rate if rate else 0.0
    run = run_tag(clock())
    if history is not None:
        mentions = list(read_mentions(path, stats=stats, clock=clock))
        for mention in spread_history(mentions, now=clock(), shape=history, burst_ids=burst_ids):
            if should_stop():
                return stats
            sink(mention)
        if not loop:
            return stats
    loop_index = 0
    next_at = time.monotonic()
    while True:
        tag = f"{run}.{loop_index}" if loop else None
        read_before = stats.read
        for mention in read_mentions(
            path,
            keep_timestamps=keep_timestamps,
            loop_index=loop_index,
            round_tag=tag,
            stats=stats,
            clock=clock,
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
        if stats.read == read_before:  # a file without one readable mention would loop forever
            raise TabularFileError(f"{path}: no readable mention to loop over")
