"""The one error family collectors and the publisher raise; the runner decides what each means."""

from __future__ import annotations


class CollectorError(Exception):
    """Base of everything a collector raises on purpose."""

    def __init__(self, collector: str, message: str) -> None:
        super().__init__(f"{collector}: {message}")
        self.collector = collector
        self.message = message


class RateLimited(CollectorError):
    """The network asked us to wait (Twitter 429, VK 6/9/29); resume after `retry_after` seconds."""

    def __init__(self, collector: str, message: str, retry_after: float) -> None:
        super().__init__(collector, message)
        self.retry_after = retry_after


class AuthFailed(CollectorError):
    """Bad, expired or revoked credentials (VK 5, Twitter 401/403): stop this collector, alert."""


class CaptchaRequired(CollectorError):
    """VK error 14: a human must act; stop this collector, alert."""


class TransientError(CollectorError):
    """Network trouble or a 5xx: retry with backoff."""


class BrokenPayload(CollectorError):
    """One page or payload could not be parsed: log it with its source and go on."""
