"""Building, writing, sending and scheduling the daily digest (used by `mentiondesk digest`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models_analytics import DigestRun
from core.notify.mail import recipients, send_message
from core.settings import Settings
from desk.services.complaints import Embedder
from desk.services.digest import Digest, build_digest, charts, data_uri_images, email_message, render_html

log = logging.getLogger(__name__)


def default_day(settings: Settings, now: datetime) -> date:
    """Yesterday, in the digest's time zone."""
    return (now.astimezone(ZoneInfo(settings.digest_timezone)) - timedelta(days=1)).date()


def produce(
    settings: Settings, day: date, embed: Embedder | None = None, now: datetime | None = None
) -> tuple[Digest, dict[str, bytes]]:
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            digest = build_digest(session, day, zone=settings.digest_timezone, now=now, embed=embed)
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


def run_schedule(
    settings: Settings,
    embedder: Callable[[], Embedder | None] = lambda: None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    should_stop: Callable[[], bool] = lambda: False,
    poll_s: float = 30.0,
) -> None:
    """Every day at MD_DIGEST_TIME (MD_DIGEST_TIMEZONE) send yesterday's digest, once: the day is
    recorded in `digest_runs`, so a restart after the hour sends a missed digest and never twice."""
    hour, minute = (int(x) for x in settings.digest_time.split(":"))
    zone = ZoneInfo(settings.digest_timezone)
    migrate(settings.database_url)
    sessions = make_session_factory(make_engine(settings.database_url))
    while not should_stop():
        now = clock()
        local = now.astimezone(zone)
        day = default_day(settings, now)
        if (local.hour, local.minute) >= (hour, minute):
            with sessions() as session:
                due = not _already_sent(session, day)
            if due:
                try:
                    digest, pngs = produce(settings, day, embedder(), now)
                    to = send(settings, digest, pngs)
                    status = "sent"
                except Exception as exc:
                    log.exception("digest of %s failed", day)
                    to, status = [], f"failed: {exc}"[:255]
                if status == "sent":
                    with sessions() as session:
                        session.add(DigestRun(day=day.isoformat(), recipients=", ".join(to), status=status))
                        session.commit()
                    log.info("digest of %s sent to %s", day, ", ".join(to))
        time.sleep(poll_s)
