"""Delivering desk notices outside the desk: Telegram (the bot's sendMessage) and e-mail.

A notice goes out once: it is claimed first (a conditional UPDATE of `delivered_at` that only one
process wins), then sent outside any transaction, then its outcome is stored ("sent 200",
"sent", "failed: ..."). Telegram is retried with backoff as alerts are (core.notify.alerts); an
e-mail is tried again on connection trouble. Only users with a chat id or an address are sent to,
and only notices younger than `max_age` (a desk down for a day does not flood anyone).
"""

from __future__ import annotations

import functools
import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from core.db.models_desk import DeskUser
from core.db.models_notices import DeskNotice, DeskUserPrefs
from core.i18n import use_language
from core.notify.alerts import WebhookRetry, is_telegram, post_webhook
from core.notify.mail import send_message
from core.notify.redact import scrub
from core.settings import Settings
from desk.services.desk_time import desk_zone, show
from desk.services.notices import notice_text

log = logging.getLogger(__name__)

MAX_AGE = timedelta(hours=24)
BATCH = 100
_MAIL_TRANSIENT = (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError)


@dataclass(frozen=True, slots=True)
class Outgoing:
    notice_id: int
    text: str
    email: str | None
    chat_id: str | None


def telegram_url(settings: Settings) -> str | None:
    """The bot URL notices go through: its own setting, or the alert webhook when that is Telegram's."""
    if settings.notify_telegram_webhook_url:
        return settings.notify_telegram_webhook_url
    url = settings.alert_webhook_url
    return url if url and is_telegram(url) else None


def _claim(session: Session, now: datetime, max_age: timedelta, mail: bool, telegram: bool) -> list[Outgoing]:
    channels = []
    if mail:
        channels.append(DeskUserPrefs.email.is_not(None))
    if telegram:
        channels.append(DeskUserPrefs.telegram_chat_id.is_not(None))
    if not channels:
        return []
    rows = session.execute(
        select(DeskNotice, DeskUserPrefs.email, DeskUserPrefs.telegram_chat_id, DeskUser.language)
        .join(DeskUserPrefs, DeskUserPrefs.username == DeskNotice.username)
        .join(DeskUser, DeskUser.username == DeskNotice.username)
        .where(DeskNotice.delivered_at.is_(None), DeskNotice.created_at >= now - max_age, or_(*channels))
        .order_by(DeskNotice.created_at, DeskNotice.id)
        .limit(BATCH)
    )
    zone = desk_zone(session)
    claimed = []
    for notice, email, chat_id, language in rows:
        won = session.execute(
            update(DeskNotice)
            .where(DeskNotice.id == notice.id, DeskNotice.delivered_at.is_(None))
            .values(delivered_at=now)
        )
        if getattr(won, "rowcount", 0) == 1:
            with use_language(language):  # the recipient's own language, else MD_DESK_LANGUAGE
                text = notice_text(notice, functools.partial(show, zone=zone))
            claimed.append(
                Outgoing(
                    notice.id,
                    text,
                    email if mail else None,
                    chat_id if telegram else None,
                )
            )
    return claimed


def _send_mail(settings: Settings, to: str, text: str) -> str:
    message = EmailMessage()
    message["Subject"] = f"[mentiondesk] {text}"
    message["From"] = settings.mail_from
    message["To"] = to
    message.set_content(text + "\n")
    retrying = Retrying(
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=1, max=10),
        retry=retry_if_exception_type(_MAIL_TRANSIENT),
        reraise=True,
    )
    retrying(send_message, settings, message)
    return "sent"


def _outcome(action: Callable[[], object], *secrets: str | None) -> str:
    try:
        result = action()
    except Exception as exc:
        return f"failed: {scrub(str(exc), *secrets)}"[:255]
    return result if isinstance(result, str) else f"sent {result}"


def deliver_pending(
    sessions: sessionmaker[Session],
    settings: Settings,
    now: datetime | None = None,
    *,
    max_age: timedelta = MAX_AGE,
    retry: WebhookRetry | None = None,
) -> int:
    """Send the notices not sent yet to users with a Telegram chat or an e-mail address; returns
    how many were claimed. Channels that are not configured are skipped."""
    now = now or datetime.now(UTC)
    bot = telegram_url(settings)
    with sessions.begin() as session:
        batch = _claim(session, now, max_age, mail=bool(settings.smtp_host), telegram=bot is not None)
    for item in batch:
        tg = mail = None
        if item.chat_id and bot:
            payload = {"chat_id": item.chat_id, "text": item.text}
            tg = _outcome(functools.partial(post_webhook, bot, payload, retry), bot)
        if item.email:
            mail = _outcome(functools.partial(_send_mail, settings, item.email, item.text))
        for status in (tg, mail):
            if status and status.startswith("failed"):
                log.warning("notice %s: %s", item.notice_id, status)
        with sessions.begin() as session:
            session.execute(
                update(DeskNotice)
                .where(DeskNotice.id == item.notice_id)
                .values(telegram_status=tg, email_status=mail)
            )
    return len(batch)
