"""The environment of a process that posts replies to the fake VK and X, as a user configures it."""

from __future__ import annotations

import uuid

from tests.fakes.twitter_server import FakeTwitter
from tests.fakes.vk_server import FakeVk
from tests.support import worker_env


def x_posting(tw: FakeTwitter) -> dict[str, str]:
    """MD_ settings that let the publisher post on the fake X as the brand."""
    return {
        "MD_TWITTER_API_URL": tw.url,
        "MD_TWITTER_CONSUMER_KEY": "ck",
        "MD_TWITTER_CONSUMER_SECRET": "cs",
        "MD_TWITTER_ACCESS_TOKEN": "at",
        "MD_TWITTER_ACCESS_TOKEN_SECRET": "ats",
    }


def posting_env(
    bootstrap: str, database_url: str, vk: FakeVk, tw: FakeTwitter | None = None, **extra: str
) -> dict[str, str]:
    """MD_ settings for the publisher with posting credentials for the fakes."""
    env = worker_env(
        bootstrap,
        database_url,
        MD_VK_TOKEN="vk-post",
        MD_VK_API_URL=vk.api_url,
        MD_VK_RPS_DELAY="0",
        MD_PUBLISHER_GROUP=f"pub-{uuid.uuid4().hex[:6]}",
    )
    if tw is not None:
        env.update(x_posting(tw))
    env.update(extra)
    return env
