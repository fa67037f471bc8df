"""Production mode: the set-ups a service refuses to start with when MD_ENVIRONMENT=production.

`unsafe_reasons` is pure (it reads the settings, nothing else), so every service command asks it
the same question before it starts anything, and the operator sees every problem at once instead
of fixing them one restart at a time.
"""

from __future__ import annotations

from typing import Final

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.settings import Settings

MIN_DB_PASSWORD_LENGTH: Final = 12
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
WELL_KNOWN_PASSWORDS: Final = frozenset(
    {
        "postgres", "password", "changeme", "change-me", "change_me", "mentiondesk", "admin", "secret",
        "root", "test", "example", "letmein", "qwerty", "123456", "12345678", "123456789012",
        "password123", "passw0rd", "default",
    }
)  # fmt: skip
"""Passwords that are first in every guessing list, whatever their length."""
PLACEHOLDER_MARKERS: Final = (
    "example", "changeme", "change-me", "change_me", "replace-me", "replace_me", "your-", "your_",
    "placeholder",
)  # fmt: skip
"""A token containing one of these was copied from documentation, not issued by the network."""
TOKEN_SETTINGS: Final = (
    "vk_token",
    "vk_post_token",
    "twitter_bearer_token",
    "twitter_consumer_key",
    "twitter_consumer_secret",
    "twitter_access_token",
    "twitter_access_token_secret",
)


def unsafe_reasons(settings: Settings) -> list[str]:
    """Every reason `settings` is unsafe in production, one clear sentence each; empty when the
    set-up is safe or the environment is not production (development allows all of it)."""
    if settings.environment != "production":
        return []
    return [
        *_database_reasons(settings.database_url),
        *_broker_reasons(settings),
        *_desk_reasons(settings),
        *_token_reasons(settings),
    ]


def refusal_text(reasons: list[str]) -> str:
    """The message a service prints before it exits with status 2."""
    lines = [f"refusing to start in production (MD_ENVIRONMENT=production): {len(reasons)} unsafe setting(s)"]
    lines += [f"  - {reason}" for reason in reasons]
    return "\n".join(lines)


def _database_reasons(url: str) -> list[str]:
    if url.startswith("sqlite"):
        return [
            "MD_DATABASE_URL is SQLite: production needs PostgreSQL "
            "(postgresql+psycopg://user:password@host/db), SQLite is for one machine in development"
        ]
    try:
        password = make_url(url).password
    except ArgumentError:
        return ["MD_DATABASE_URL is not a valid database URL"]
    if password is None:
        return []  # no password in the URL: peer, certificate or a .pgpass authenticates
    secret = str(password)
    if secret.lower() in WELL_KNOWN_PASSWORDS:
        return [f"MD_DATABASE_URL uses a well-known default password ({secret!r}): set a random one"]
    if len(secret) < MIN_DB_PASSWORD_LENGTH:
        return [
            f"MD_DATABASE_URL's password has {len(secret)} characters: production needs at least "
            f"{MIN_DB_PASSWORD_LENGTH} (a random one)"
        ]
    return []


def _broker_reasons(settings: Settings) -> list[str]:
    if settings.kafka_bootstrap and settings.kafka_bootstrap.strip():
        return []
    return [
        "MD_KAFKA_BOOTSTRAP is not set: `up` would start the embedded broker (Tansu, memory storage, "
        "loses every message on restart); production must name a Kafka broker (host:port)"
    ]


def _desk_reasons(settings: Settings) -> list[str]:
    cert, key = settings.desk_tls_cert, settings.desk_tls_key
    if (cert is None) != (key is None):
        return ["MD_DESK_TLS_CERT and MD_DESK_TLS_KEY go together: set both or neither"]
    if cert is not None or settings.desk_host in LOOPBACK_HOSTS or settings.desk_behind_tls_proxy:
        return []
    return [
        f"the desk listens on {settings.desk_host} without TLS: passwords and sessions would cross "
        "the network in clear text; set MD_DESK_TLS_CERT and MD_DESK_TLS_KEY, or bind MD_DESK_HOST to "
        "127.0.0.1, or put a TLS reverse proxy in front and set MD_DESK_BEHIND_TLS_PROXY=true"
    ]


def _token_reasons(settings: Settings) -> list[str]:
    reasons: list[str] = []
    for name in TOKEN_SETTINGS:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) and _placeholder(value.get_secret_value()):
            reasons.append(f"MD_{name.upper()} holds an example value, not a real token: set the issued one")
    return reasons


def _placeholder(token: str) -> bool:
    """Whether a token looks copied from documentation: a known marker, <...>, or one repeated
    character (xxxx, ...). An empty token is unset, not a placeholder."""
    text = token.strip().lower()
    if not text:
        return False
    if text.startswith("<") and text.endswith(">"):
        return True
    return len(set(text)) == 1 or any(marker in text for marker in PLACEHOLDER_MARKERS)
