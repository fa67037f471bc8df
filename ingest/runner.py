"""The poll loop of every configured collector (`mentiondesk collect`).

For each collector, in a thread of its own: read its cursors from the database, take its pages,
send each page's new mentions to Kafka, wait for the broker's acknowledgement, then save the
page's cursors (and the health counters) in one transaction. So a crash re-reads at most one page
and never skips one; mentions already delivered by this process are not sent again, and the rest
of the duplicates are dropped downstream by (source, external_id).

A mention too large for the broker (`core.bus.errors.MessageTooLarge` from the sink) can never be
delivered: it is dead-lettered to `mentions.dlq.v1` with the reason and a shortened copy, logged,
and the rest of its page is delivered and the page's cursors saved as usual.

Errors: a rate limit waits until the network's reset and resumes from the cursors; rejected
credentials or a captcha stop that collector with an alert; network trouble retries with
exponential backoff; a broken page is logged with its source and the poll goes on.

Which collectors run is decided in one place, `ingest.collectors` (the list of collector kinds);
every collector's `name` is unique here, since cursors, health and backoff are kept by name.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from core.bus.errors import MessageTooLarge
from core.db.repository_ingest import load_cursors, save_cursors
from ingest.base import Collector
from ingest.errors import AuthFailed, BrokenPayload, CaptchaRequired, CollectorError, RateLimited
from ingest.health import HealthBook
from schemas import DeadLetter, Mention
from schemas.base import utc_now
from schemas.topics import MENTIONS_DLQ, MENTIONS_RAW

log = logging.getLogger(__name__)


#: how much of a refused mention's text its dead letter keeps (the rest of the mention is bounded)
DEAD_LETTER_TEXT_CHARS = 2_000


class MentionSink(Protocol):
    def send(self, mention: Mention) -> None:
        """Queue one mention; raise core.bus.errors.MessageTooLarge when it can never be delivered."""

    def flush(self, timeout: float = 30.0) -> None: ...


class DeadLetterSink(Protocol):
    def send_dead_letter(self, letter: DeadLetter) -> None: ...
    def flush(self, timeout: float = 30.0) -> None: ...


def oversize_letter(mention: Mention, exc: MessageTooLarge) -> DeadLetter:
    """The dead letter of a mention the broker cannot take. Its payload is the mention's JSON with
    the text cut to DEAD_LETTER_TEXT_CHARS, so the letter itself stays small and still parses as a
    Mention (source, external_id, url and author say where to find the original)."""
    short = mention.model_copy(update={"text": mention.text[:DEAD_LETTER_TEXT_CHARS]})
    return DeadLetter(
        topic=MENTIONS_RAW,
        key=mention.thread_key,
        payload=short.model_dump_json(),
        error=exc.reason,
        stage="collect",
    )


class _Seen:
    """(source, external_id) of mentions this process already delivered (bounded, oldest out)."""

    def __init__(self, size: int = 200_000) -> None:
        self.size = size
        self._keys: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def new(self, mentions: Sequence[Mention]) -> list[Mention]:
        with self._lock:
            out, batch = [], set()
            for m in mentions:
                key = (m.source, m.external_id)
                if key not in self._keys and key not in batch:
                    batch.add(key)
                    out.append(m)
            return out

    def add(self, mentions: Sequence[Mention]) -> None:
        with self._lock:
            for m in mentions:
                self._keys[(m.source, m.external_id)] = None
            while len(self._keys) > self.size:
                self._keys.popitem(last=False)


class Interrupted(Exception):
    """Raised from a collector's wait (an HTTP client's pacing sleep) once the runner is stopping:
    the page in hand is dropped unsent, its cursors unsaved, and the pass ends at once instead of
    sleeping out a Crawl-delay or Retry-After first."""


@dataclass(frozen=True, slots=True)
class PollOutcome:
    delivered: int
    wait_s: float  # seconds before the next poll
    stop: bool = False
    error: str | None = None
    retry: bool = False  # the pass did not complete (rate limit, network): poll again after wait_s


class CollectorRunner:
    def __init__(
        self,
        collectors: Sequence[Collector],
        sink: MentionSink,
        sessions: sessionmaker[Session],
        *,
        poll_interval_s: float,
        dead_letters: DeadLetterSink | None = None,
        backoff_max_s: float = 300.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        names = [c.name for c in collectors]
        if len(names) != len(set(names)):  # cursors, health and backoff are kept by name
            raise ValueError(f"collector names must be unique, got {names}")
        self.collectors = list(collectors)
        self.sink = sink
        self.dead_letters = dead_letters
        self.sessions = sessions
        self.poll_interval_s = poll_interval_s
        self.backoff_max_s = backoff_max_s
        self.clock = clock
        self.health = HealthBook(sessions, poll_interval_s)
        self.seen = _Seen()
        self._sink_lock = threading.Lock()
        self._failures: dict[str, int] = {}

    def poll(self, collector: Collector, stop: threading.Event | None = None) -> PollOutcome:
        """One pass over the collector's feeds, with every error turned into what to do next.

        With `stop` set mid-pass, the pass ends after the page in hand is delivered and its cursors
        saved: a SIGTERM does not wait for the rest of a long pass, and the next run resumes there."""
        name = collector.name
        delivered = 0
        try:
            with self.sessions() as session:
                cursors = load_cursors(session, name)
            pages = collector.fetch(cursors)
            try:
                for page in pages:
                    delivered += self._deliver(name, page.mentions, [(c.key, c.value) for c in page.cursors])
                    if stop is not None and stop.is_set():
                        log.info("%s: stopped mid-pass after %d mentions; cursors saved", name, delivered)
                        return PollOutcome(delivered, 0.0, retry=True)
            finally:
                close = getattr(pages, "close", None)
                if close is not None:
                    close()
        except Interrupted:
            log.info("%s: stopped mid-pass after %d mentions; cursors saved", name, delivered)
            return PollOutcome(delivered, 0.0, retry=True)
        except RateLimited as exc:
            now = self.clock()
            self.health.failed(
                name,
                exc.message,
                now,
                state="rate_limited",
                retry_at=now + timedelta(seconds=exc.retry_after),
            )
            log.warning("%s: rate limited, resuming in %.1fs: %s", name, exc.retry_after, exc.message)
            return PollOutcome(delivered, exc.retry_after, error=exc.message, retry=True)
        except (AuthFailed, CaptchaRequired) as exc:
            alert = f"collector stopped: {exc.message}"
            self.health.failed(name, exc.message, self.clock(), alert=alert)
            return PollOutcome(delivered, 0.0, stop=True, error=exc.message)
        except BrokenPayload as exc:
            log.warning("%s: skipped a broken page: %s", name, exc.message)
            self.health.noted(name, exc.message, self.clock())
            return PollOutcome(delivered, self.poll_interval_s, error=exc.message)
        except Exception as exc:  # TransientError, broker or database trouble: back off and retry
            message = exc.message if isinstance(exc, CollectorError) else f"{type(exc).__name__}: {exc}"
            failures = self._failures.get(name, 0) + 1
            self._failures[name] = failures
            wait = min(self.backoff_max_s, self.poll_interval_s * 0.1 * 2 ** (failures - 1))
            log.warning("%s: poll failed (%d in a row), retrying in %.1fs: %s", name, failures, wait, message)
            self.health.failed(name, message, self.clock(), retry_at=self.clock() + timedelta(seconds=wait))
            return PollOutcome(delivered, wait, error=message, retry=True)
        self._failures.pop(name, None)
        self.health.succeeded(name, self.clock())
        return PollOutcome(delivered, self.poll_interval_s)

    def _deliver(self, name: str, mentions: Sequence[Mention], cursors: Sequence[tuple[str, str]]) -> int:
        new = self.seen.new(mentions)
        delivered: list[Mention] = []
        refused: list[str] = []
        if new:
            with self._sink_lock:
                for mention in new:
                    try:
                        self.sink.send(mention)
                        delivered.append(mention)
                    except MessageTooLarge as exc:
                        refused.append(self._set_aside(name, mention, exc))
                self.sink.flush()
                if refused and self.dead_letters is not None:  # a second flush of one producer is free
                    self.dead_letters.flush()
        self.seen.add(new)
        with self.sessions() as session:
            save_cursors(session, name, cursors)
            self.health.delivered_in(session, name, delivered, self.clock())
            session.commit()
        for note in refused:
            self.health.noted(name, note, self.clock())
        return len(delivered)

    def _set_aside(self, name: str, mention: Mention, exc: MessageTooLarge) -> str:
        """Dead-letter a mention the broker cannot take (the caller flushes); returns what to note."""
        label = f"{mention.source}/{mention.external_id}"
        if self.dead_letters is None:
            note = f"{label} dropped (no dead-letter topic): {exc.reason}"
        else:
            self.dead_letters.send_dead_letter(oversize_letter(mention, exc))
            note = f"{label} sent to {MENTIONS_DLQ}: {exc.reason}"
        log.error("%s: %s", name, note)
        return note

    def run_collector(self, collector: Collector, stop: threading.Event, *, once: bool = False) -> None:
        """Poll until `stop` is set (or one complete pass with `once`; rate limits still resume)."""
        self.health.started(collector.name, self.clock())
        while not stop.is_set():
            outcome = self.poll(collector, stop)
            if outcome.stop:
                log.error("%s stopped: %s", collector.name, outcome.error)
                return
            if once and not outcome.retry:
                return
            stop.wait(outcome.wait_s)

    def run(self, stop: threading.Event, *, once: bool = False) -> None:
        threads = [
            threading.Thread(
                target=self.run_collector,
                args=(c, stop),
                kwargs={"once": once},
                name=f"collect-{c.name}",
                daemon=True,
            )
            for c in self.collectors
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
