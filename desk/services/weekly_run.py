"""Building, sending and scheduling the weekly report (`mentiondesk report weekly`, and the digest
schedule's weekly send)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models_analytics import DigestRun
from core.notify.mail import recipients, send_message
from core.settings import Settings
from desk.services.complaints import Embedder
from desk.services.desk_time import desk_zone
from desk.services.digest_run import Backoff
from desk.services.targets import load_targets, targets_for
from desk.services.weekly_render import email_message
from desk.services.weekly_report import WeeklyReport, build_weekly_report, last_complete_week, week_of

log = logging.getLogger(__name__)

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def produce(
    settings: Settings,
    week: str,
    brand: str | None = None,
    embed: Embedder | None = None,
    now: datetime | None = None,
) -> WeeklyReport:
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            targets = targets_for(load_targets(settings), brand)
            return build_weekly_report(session, week, brand, now=now, embed=embed, targets=targets)
    finally:
        engine.dispose()


def default_week(settings: Settings, now: datetime) -> str:
    """The last complete ISO week in the desk's zone (MD_DESK_TIMEZONE, else the calendar's)."""
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            return last_complete_week(now, desk_zone(session, settings).key)
    finally:
        engine.dispose()


def send(settings: Settings, report: WeeklyReport) -> list[str]:
    to = recipients(settings.digest_to)
    if not to:
        raise ValueError("no recipients: set MD_DIGEST_TO")
    send_message(settings, email_message(report, to, settings.mail_from))
    return to


def due_week(settings: Settings, now: datetime, zone: str) -> str | None:
    """The week whose report is due at `now`: from this week's MD_WEEKLY_REPORT_DAY at
    MD_WEEKLY_REPORT_AT (in `zone`) to the week's end, the week before; otherwise None. A process
    that was down at the hour therefore still sends the report later that week."""
    if settings.weekly_report_day == "off":
        return None
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo(zone))
    hour, minute = (int(x) for x in settings.weekly_report_at.split(":"))
    slot = (WEEKDAYS.index(settings.weekly_report_day), hour, minute)
    if (local.weekday(), local.hour, local.minute) < slot:
        return None
    return week_of(local.date() - timedelta(days=7))


class SharedEmbedder:
    """The embedder factory shared by the daily and the weekly schedule of one process: built once,
    at the first report that needs it, and used by one report at a time (the loops are threads)."""

    def __init__(self, factory: Callable[[], Embedder | None]) -> None:
        self._factory = factory
        self._build = threading.Lock()
        self._use = threading.Lock()
        self._built = False
        self._embed: Embedder | None = None

    def __call__(self) -> Embedder | None:
        with self._build:
            if not self._built:
                self._embed = self._factory()
                self._built = True
        if self._embed is None:
            return None
        inner = self._embed

        def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
            with self._use:
                return inner(texts)

        return embed


#: one weekly attempt: build the week's report with the embedder and send it; returns the recipients
Attempt = Callable[[str, Embedder | None, datetime], list[str]]


def produce_and_send(settings: Settings) -> Attempt:
    def attempt(week: str, embed: Embedder | None, now: datetime) -> list[str]:
        return send(settings, produce(settings, week, None, embed, now))

    return attempt


def run_weekly_schedule(
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
    """Every week on MD_WEEKLY_REPORT_DAY at MD_WEEKLY_REPORT_AT (business calendar zone) e-mail the
    previous week's report (all brands) to MD_DIGEST_TO, once: the week ("2026-W48") is recorded in
    `digest_runs` beside the daily digests' days, so a restart neither loses nor repeats it. Failed
    tries back off as the digest's do (desk.services.digest_run.Backoff)."""
    backoff = backoff or Backoff()
    attempt = attempt or produce_and_send(settings)
    migrate(settings.database_url)
    sessions = make_session_factory(make_engine(settings.database_url))
    next_try: datetime | None = None
    while not should_stop():
        now = clock()
        with sessions() as session:
            zone = desk_zone(session, settings).key
            week = due_week(settings, now, zone)
            sent = week is not None and session.get(DigestRun, week) is not None
        if week is not None and not sent and (next_try is None or now >= next_try):
            try:
                to = attempt(week, embedder(), now)
            except Exception as exc:
                delay = backoff.failed()
                next_try = now + timedelta(seconds=delay)
                log.error(
                    "weekly report of %s failed (%d in a row), next try at %s (in %.0fs): %s",
                    week, backoff.failures, next_try.isoformat(timespec="seconds"), delay, exc,
                    exc_info=True,
                )  # fmt: skip
            else:
                backoff.succeeded()
                next_try = None
                _record_sent(sessions, week, to)
        sleep(poll_s)


def _record_sent(sessions: sessionmaker[Session], week: str, to: list[str]) -> None:
    with sessions() as session:
        session.add(DigestRun(day=week, recipients=", ".join(to), status="sent"))
        session.commit()
    log.info("weekly report of %s sent to %s", week, ", ".join(to))
