"""Sending e-mail over SMTP (smtplib), configured by the MD_SMTP_* settings."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from core.settings import Settings


class MailNotConfigured(RuntimeError):
    """MD_SMTP_HOST is not set."""


def recipients(value: str) -> list[str]:
    """A comma-separated list of addresses as a list."""
    return [a.strip() for a in value.split(",") if a.strip()]


def send_message(settings: Settings, message: EmailMessage, timeout: float = 30.0) -> None:
    """Send through the configured server: SSL, or plain with optional STARTTLS, then login if set."""
    if not settings.smtp_host:
        raise MailNotConfigured("MD_SMTP_HOST is not set")
    if "From" not in message:
        message["From"] = settings.mail_from
    smtp_class = smtplib.SMTP_SSL if settings.smtp_ssl else smtplib.SMTP
    with smtp_class(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
        if settings.smtp_starttls and not settings.smtp_ssl:
            smtp.starttls()
        if settings.smtp_user and settings.smtp_password is not None:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        smtp.send_message(message)
