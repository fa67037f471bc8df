"""Point a network client's `requests.Session` at another base URL (a proxy, a fake in tests).

vk_api and tweepy build their URLs from hard-coded hosts; both accept or own a requests.Session,
so an adapter mounted on that session rewrites the prefix and nothing else changes: the same
client code, the same paging, the same error handling.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter


class RebasingAdapter(HTTPAdapter):
    """Sends requests for `original` to `target` instead (prefix replacement)."""

    def __init__(self, original: str, target: str) -> None:
        super().__init__(max_retries=0)
        self.original = original
        self.target = target

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if request.url and request.url.startswith(self.original):
            request.url = self.target + request.url[len(self.original) :]
        return super().send(request, *args, **kwargs)


def rebase_session(session: requests.Session, original: str, target: str) -> requests.Session:
    """Make `session` send everything under `original` to `target`; a no-op when they are equal."""
    original = original.rstrip("/") + "/"
    target = target.rstrip("/") + "/"
    if original != target:
        session.mount(original, RebasingAdapter(original, target))
    return session
