"""Building, writing, sending and scheduling the daily digest (used by `mentiondesk digest`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models_analytics import DigestRun
from core.notify.mail import recipients, send_message
from core.settings import Settings
from desk.services.complaints import Embedder
from desk.services.desk_time import digest_zone
from desk.services.digest import Digest, build_digest, charts, data_uri_images, email_message, render_html
from desk.services.targets import load_targets

log = logging.getLogger(__name__)


def default_day(settings: Settings, now: datetime) -> date:
    """Yesterday, in the digest's time zone."""
    return (now.astimezone(ZoneInfo(settings.digest_zone)) - timedelta(days=1)).date()


def produce(
    settings: Settings, day: date, embed: Embedder | None = None, now: datetime | None = None
) -> tuple[Digest, dict[str, bytes]]:
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            zone = digest_zone(session, settings)  # MD_DIGEST_TIMEZONE, else the desk's zone
            digest = build_digest(
                session, day, zone=zone, now=now, embed=embed, targets=load_targets(settings)
            )
    finally:
        engine.dispose()
    return digest, charts(digest)


def write(digest: Digest, pngs: dict[str, bytes], out: Path) -> Path:
    """digest-<day>.html (self-contained, data-URI images) and the PNGs into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    for name, png in pngs.items():
        (out / f"{name}-{digest.day.isoformat()}.png").write_bytes(png)
    page = out / f"digest-{digest.day.isoformat()}.html"
    page.write_text(render_html(digest, data_uri_images(pngs)), encoding="utf-8")
    return page


def send(settings: Settings, digest: Digest, pngs: dict[str, bytes]) -> list[str]:
    to = recipients(settings.digest_to)
    if not to:
        raise ValueError("no recipients: set MD_DIGEST_TO")
    send_message(settings, email_message(digest, pngs, to, settings.mail_from))
    return to


def _already_sent(session: Session, day: date) -> bool:
    return session.get(DigestRun, day.isoformat()) is not None


@dataclass
class Backoff:
    """How long to wait after consecutive failed tries: `initial_s` doubling up to `max_s`; a
    success starts again from `initial_s`."""

    initial_s: float = 30.0
    max_s: float = 1800.0
    failures: int = 0

    def failed(self) -> float:
        """Count one more failure; returns the delay before the next try (seconds)."""
        self.failures += 1
        return min(self.max_s, self.initial_s * 2.0 ** (self.failures - 1))

    def succeeded(self) -> None:
        self.failures = 0


class BuiltOnce:
    """The embedder factory, called at the first digest that needs it and never again in this
    process: loading the model is the slow part, and every retry and every day reuses it."""

    def __init__(self, factory: Callable[[], Embedder | None]) -> None:
        self._factory = factory
        self._built = False
        self._embed: Embedder | None = None

    def __call__(self) -> Embedder | None:
        if not self._built:
            self._embed = self._factory()
            self._built = True
        return self._embed


#: one digest attempt: build the day's digest with the embedder and send it; returns the recipients
Attempt = Callable[[date, Embedder | None, datetime], list[str]]


def produce_and_send(settings: Settings) -> Attempt:
    def attempt(day: date, embed: Embedder | None, now: datetime) -> list[str]:
        digest, pngs = produce(settings, day, embed, now)
        return send(settings, digest, pngs)

    return attempt


def run_schedule(
    settings: Settings,
    embedder: Callable[[], Embedder | None] = lambda: None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    should_stop: Callable[[], bool] = lambda: False,
    poll_s: float = 30.0,
    *,
    sleep: Callable[[float], None] = time.sleep,
    backoff: Backoff | None = None,
    attempt: Attempt | None = None,
) -> None:
    """Every day at MD_DIGEST_TIME (MD_DIGEST_TIMEZONE) send yesterday's digest, once: the day is
    recorded in `digest_runs`, so a restart after the hour sends a missed digest and never twice.

    The embedder is built once per process (`BuiltOnce`). A failed try waits `backoff` (30 s doubling
    to 30 min, reset by a success) and logs when the next try is. The backoff is this loop's own
    state rather than tenacity's or stamina's retry loop: those retry one call inside a blocking
    sleep of their own, while this process must keep polling the clock (the day changes under a
    30-minute wait, and a restart or a stop must not be held up by it), and the clock and sleep are
    injected so tests run the policy without waiting.
    """
    hour, minute = (int(x) for x in settings.digest_time.split(":"))
    zone = ZoneInfo(settings.digest_zone)
    backoff = backoff or Backoff()
    attempt = attempt or produce_and_send(settings)
    embed = BuiltOnce(embedder)
    migrate(settings.database_url)
    sessions = make_session_factory(make_engine(settings.database_url))
    next_try: datetime | None = None
    while not should_stop():
        now = clock()
        day = default_day(settings, now)
        due = (now.astimezone(zone).hour, now.astimezone(zone).minute) >= (hour, minute)
        if due and (next_try is None or now >= next_try) and not _sent(sessions, day):
            try:
                to = attempt(day, embed(), now)
            except Exception as exc:
                delay = backoff.failed()
                next_try = now + timedelta(seconds=delay)
                log.error(
                    "digest of %s failed (%d in a row), next try at %s (in %.0fs): %s",
                    day, backoff.failures, next_try.isoformat(timespec="seconds"), delay, exc,
                    exc_info=True,
                )  # fmt: skip
            else:
                backoff.succeeded()
                next_try = None
                _record_sent(sessions, day, to)
        sleep(poll_s)


def _sent(sessions: sessionmaker[Session], day: date) -> bool:
    with sessions() as session:
        return _already_sent(session, day)


def _record_sent(sessions: sessionmaker[Session], day: date, to: list[str]) -> None:
    with sessions() as session:
        session.add(DigestRun(day=day.isoformat(), recipients=", ".join(to), status="sent"))
        session.commit()
    log.info("digest of %s sent to %s", day, ", ".join(to))
