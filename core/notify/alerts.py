"""Delivering a spike alert: a webhook POST and an e-mail.

Webhook JSON carries `text` (what Slack incoming webhooks and Telegram's sendMessage read; `chat_id`
is added when MD_ALERT_WEBHOOK_CHAT_ID is set) and the full `alert`.

The text quotes customers, so it is made inert for the receiver: Slack reads `<...>` as links and
mentions (`<!channel>`, `<https://evil|acme.com>`), so `&`, `<` and `>` are escaped as Slack asks;
Telegram gets plain text (no `parse_mode`), which it shows as is. A webhook that fails for a passing
reason (no connection, timeout, 429, 5xx) is tried again with backoff; any other 4xx is final. The
outcome is returned as a status ("sent 200" / "failed: ...") that the caller stores on the alert.
"""

from __future__ import annotations

import json
import logging
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from core.i18n import _, format_percent, format_time
from core.i18n import format_datetime as format_moment
from core.notify.mail import recipients, send_message
from core.notify.redact import scrub
from core.settings import Settings
from schemas import Alert

log = logging.getLogger(__name__)

TELEGRAM_HOST = "api.telegram.org"
#: a status code worth another try: rate limited or the receiver's own trouble
_RETRY_STATUS_FLOOR = 500
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class WebhookRetry:
    """How hard to try one webhook: attempts in all, exponential backoff with jitter between them,
    and the receiver's Retry-After honoured up to `max_retry_after_s`."""

    attempts: int = 5
    initial_s: float = 1.0
    max_wait_s: float = 30.0
    jitter_s: float = 1.0
    max_retry_after_s: float = 60.0
    timeout_s: float = 10.0


def slack_escape(text: str) -> str:
    """Slack's escaping for message text: `&`, `<`, `>` become entities, so nothing links or pings."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def headline(alert: Alert) -> str:
    """`alert.headline()` in the language in force (the recipients': MD_DESK_LANGUAGE)."""
    scope = " / ".join(p for p in (alert.brand, alert.source, alert.topic) if p) or _("all mentions")
    return _(
        "Negativity spike: {scope}: {negative} of {total} negative ({share} against a usual "
        "{baseline}) in {start}-{end} UTC"
    ).format(
        scope=scope,
        negative=alert.negative_count,
        total=alert.total_count,
        share=format_percent(alert.negative_share, 0),
        baseline=format_percent(alert.baseline_share, 0),
        start=format_moment(alert.window_start, UTC),
        end=format_time(alert.window_end, UTC),
    )


def alert_text(alert: Alert) -> str:
    """The alert as plain text: headline, top terms and up to three quoted mentions."""
    lines = [headline(alert)]
    if alert.top_terms:
        lines.append(_("Top terms: {terms}").format(terms=", ".join(alert.top_terms)))
    for example in alert.examples[:3]:
        lines.append(f"- ({example.negativity:.2f}) {example.text[:200]}")
    return "\n".join(lines)


def is_telegram(url: str | None) -> bool:
    return bool(url) and (urlsplit(url or "").hostname or "").lower() == TELEGRAM_HOST


def webhook_payload(
    alert: Alert, chat_id: str | None = None, *, telegram: bool | None = None
) -> dict[str, Any]:
    """The JSON to POST. `telegram` (default: whether a chat_id is given) sends the text plain;
    otherwise it is escaped for Slack."""
    as_telegram = chat_id is not None if telegram is None else telegram
    text = alert_text(alert)
    payload: dict[str, Any] = {
        "text": text if as_telegram else slack_escape(text),
        "alert": json.loads(alert.model_dump_json()),
    }
    if chat_id:
        payload["chat_id"] = chat_id
    return payload


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code == 429 or exc.code >= _RETRY_STATUS_FLOOR
    return isinstance(exc, urllib.error.URLError | TimeoutError | socket.timeout | ConnectionError)


def _retry_after(exc: BaseException | None) -> float | None:
    if not isinstance(exc, urllib.error.HTTPError) or exc.headers is None:
        return None
    value = (exc.headers.get("Retry-After") or "").strip()
    return float(value) if value.isdigit() else None


def _waiter(policy: WebhookRetry) -> Callable[[RetryCallState], float]:
    """Exponential backoff with jitter, or the receiver's Retry-After when it sent a short one."""
    backoff = wait_exponential(multiplier=policy.initial_s, max=policy.max_wait_s) + wait_random(
        0, policy.jitter_s
    )

    def wait(state: RetryCallState) -> float:
        outcome = state.outcome
        asked = _retry_after(outcome.exception() if outcome is not None else None)
        if asked is not None and asked <= policy.max_retry_after_s:
            return asked
        return float(backoff(state))

    return wait


def _post_once(url: str, body: bytes, timeout: float) -> int:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()  # the status and headers are all we read; free the connection now
        raise


def post_webhook(url: str, payload: dict[str, Any], retry: WebhookRetry | None = None) -> int:
    """POST the payload; the final status, or the last error once the retries are spent."""
    policy = retry or WebhookRetry()
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=_waiter(policy),
        retry=retry_if_exception(_retryable),
        reraise=True,
        before_sleep=lambda state: log.warning(
            "alert webhook attempt %d failed (%s), trying again",
            state.attempt_number,
            scrub(str(state.outcome.exception() if state.outcome else ""), url),
        ),
    )
    return int(retrying(_post_once, url, body, policy.timeout_s))


def alert_email(alert: Alert, to: Sequence[str], sender: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[mentiondesk] {headline(alert)}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    message.set_content(alert_text(alert))
    return message


def _failed(exc: BaseException, *secrets: str | None) -> str:
    """The stored failure status: never the webhook URL (it holds the token)."""
    return f"{FAILED}: {scrub(str(exc), *secrets)}"[:255]


def _deliver_webhook(alert: Alert, settings: Settings, retry: WebhookRetry | None) -> str | None:
    url = settings.alert_webhook_url
    if not url:
        return None
    chat_id = settings.alert_webhook_chat_id
    payload = webhook_payload(alert, chat_id, telegram=is_telegram(url) or chat_id is not None)
    try:
        return f"sent {post_webhook(url, payload, retry)}"
    except Exception as exc:
        status = _failed(exc, url)
        log.warning("alert %s: webhook %s", alert.alert_id, status)
        return status


def _deliver_email(alert: Alert, settings: Settings) -> str | None:
    to = recipients(settings.alert_email_to)
    if not (settings.smtp_host and to):
        return None
    try:
        send_message(settings, alert_email(alert, to, settings.mail_from))
    except Exception as exc:
        status = _failed(exc)
        log.warning("alert %s: e-mail %s", alert.alert_id, status)
        return status
    return "sent"


def deliver(
    alert: Alert, settings: Settings, *, retry: WebhookRetry | None = None
) -> tuple[str | None, str | None]:
    """Post and mail one alert; returns (webhook status, e-mail status), None where not configured.
    A failed channel is reported in its status ("failed: ...") and does not stop the other."""
    return _deliver_webhook(alert, settings, retry), _deliver_email(alert, settings)
