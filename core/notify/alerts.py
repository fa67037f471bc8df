"""Delivering a spike alert: a webhook POST and an e-mail.

Webhook JSON carries `text` (what Slack incoming webhooks and Telegram's sendMessage read; `chat_id`
is added when MD_ALERT_WEBHOOK_CHAT_ID is set) and the full `alert`.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any

from core.notify.mail import recipients, send_message
from core.settings import Settings
from schemas import Alert

log = logging.getLogger(__name__)


def webhook_payload(alert: Alert, chat_id: str | None = None) -> dict[str, Any]:
    lines = [alert.headline()]
    if alert.top_terms:
        lines.append("Top terms: " + ", ".join(alert.top_terms))
    for example in alert.examples[:3]:
        lines.append(f"- ({example.negativity:.2f}) {example.text[:200]}")
    payload: dict[str, Any] = {"text": "\n".join(lines), "alert": json.loads(alert.model_dump_json())}
    if chat_id:
        payload["chat_id"] = chat_id
    return payload


def post_webhook(url: str, payload: dict[str, Any], timeout: float = 10.0) -> int:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status)


def alert_email(alert: Alert, to: Sequence[str], sender: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[mentiondesk] {alert.headline()}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    message.set_content(webhook_payload(alert)["text"])
    return message


def deliver(alert: Alert, settings: Settings) -> tuple[str | None, str | None]:
    """Post and mail one alert; returns (webhook status, e-mail status), None where not configured.
    A failed channel is reported in its status and does not stop the other."""
    webhook: str | None = None
    if settings.alert_webhook_url:
        try:
            code = post_webhook(
                settings.alert_webhook_url, webhook_payload(alert, settings.alert_webhook_chat_id)
            )
            webhook = f"sent {code}"
        except Exception as exc:
            log.warning("alert webhook failed: %s", exc)
            webhook = f"failed: {exc}"[:255]
    email: str | None = None
    to = recipients(settings.alert_email_to)
    if settings.smtp_host and to:
        try:
            send_message(settings, alert_email(alert, to, settings.mail_from))
            email = "sent"
        except Exception as exc:
            log.warning("alert e-mail failed: %s", exc)
            email = f"failed: {exc}"[:255]
    return webhook, email
