"""Hiding secrets carried inside URLs before they are printed, logged or stored.

Chat webhooks put their credential in the URL itself (Slack: `/services/T…/B…/<token>`, Telegram:
`/bot<token>/sendMessage`), and database or broker URLs may carry `user:password@`. Anything that
shows a setting or an error about such a URL passes it through here first."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

MASK = "***"

#: a URL with a scheme and a host, as it may appear inside an error message
_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>]+")
#: a leading path segment that names a route, not a credential (`services`, `api`, `hooks`)
_PLAIN_SEGMENT = re.compile(r"[a-z]{1,20}")


def _netloc_without_password(parts: SplitResult) -> str:
    """host[:port], with `user:***@` in front when the URL carried a password (or a lone token)."""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    if parts.username is None and parts.password is None:
        return host
    if parts.password is None:
        return f"{MASK}@{host}"  # `https://<token>@host`: the lone user part is the secret
    return f"{parts.username}:{MASK}@{host}"


def _safe_split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return None
    return parts if parts.scheme and parts.netloc else None


def mask_userinfo(url: str) -> str:
    """The URL with any password in its userinfo replaced by ***; path and query kept."""
    parts = _safe_split(url)
    if parts is None or "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=_netloc_without_password(parts)))


def mask_webhook_url(url: str) -> str:
    """A webhook URL reduced to scheme, host and a leading route word: the rest is the credential.

    `https://hooks.slack.com/services/T0/B0/x` -> `https://hooks.slack.com/services/***`,
    `https://api.telegram.org/bot123:abc/sendMessage` -> `https://api.telegram.org/***`."""
    parts = _safe_split(url)
    if parts is None:
        return MASK if url else url
    segments = [s for s in parts.path.split("/") if s]
    keep = f"/{segments[0]}" if segments and _PLAIN_SEGMENT.fullmatch(segments[0]) else ""
    hidden = len(segments) > (1 if keep else 0) or bool(parts.query)
    tail = f"/{MASK}" if hidden else ""
    return f"{parts.scheme}://{_netloc_without_password(parts)}{keep}{tail}"


def mask_setting(name: str, value: str) -> str:
    """A setting's text as it may be shown: webhook URLs cut to their host, userinfo passwords hidden."""
    if not value:
        return value
    if "webhook" in name:
        return mask_webhook_url(value)
    return _URL_IN_TEXT.sub(lambda m: mask_userinfo(m.group(0)), value)


def scrub(text: str, *secrets: str | None) -> str:
    """`text` (an error message, say) with each given secret URL replaced by its masked form and
    any other URL's password hidden."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask_webhook_url(secret))
    return _URL_IN_TEXT.sub(lambda m: mask_userinfo(m.group(0)), text)
