"""Twitter/X collector (tweepy, API v2): recent search for the brand's queries, mentions of the
brand's accounts and the accounts' own tweets (their answers made outside the desk).

Every feed pages with tweepy's Paginator, newest first, down to a `since_id` cursor. A run saves
its `next_token` after every page, so a rate limit or a crash mid-run resumes where it stopped,
and the cursor moves to the run's newest id only when the run is complete. Each run re-reads an
overlap window: since_id minus `overlap_s` (tweet ids carry their time: id >> 22 is milliseconds
since 2010-11-04). Replies join their conversation: thread_key = "twitter:<conversation_id>".
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import requests
import tweepy

from core.brands import Brand, CollectOptions
from ingest.base import Collector, CursorUpdate, Page
from ingest.endpoints import rebase_session
from ingest.errors import AuthFailed, BrokenPayload, RateLimited, TransientError
from schemas import Author, Mention, Metrics
from schemas.base import utc_now

log = logging.getLogger(__name__)

TWITTER_API_URL = "https://api.twitter.com"
TWEET_FIELDS = [
    "author_id",
    "conversation_id",
    "created_at",
    "in_reply_to_user_id",
    "lang",
    "public_metrics",
    "referenced_tweets",
]
EXPANSIONS = ["author_id", "referenced_tweets.id", "in_reply_to_user_id"]
USER_FIELDS = ["name", "username", "public_metrics"]
PAGE_SIZE = 100
SNOWFLAKE_SHIFT = 22


def twitter_error(
    exc: BaseException, collector: str = "twitter", clock: Callable[[], float] = time.time
) -> Exception:
    """The CollectorError for a tweepy or requests exception (also used by the publisher)."""
    if isinstance(exc, tweepy.TooManyRequests):
        reset = exc.response.headers.get("x-rate-limit-reset")
        wait = max(1.0, float(reset) - clock()) if reset else 60.0
        return RateLimited(collector, f"X answered 429 Too Many Requests; resets in {wait:.0f}s", wait)
    if isinstance(exc, tweepy.Unauthorized | tweepy.Forbidden):
        detail = "; ".join(exc.api_messages) or exc.response.reason
        return AuthFailed(
            collector, f"X answered {exc.response.status_code}: {detail} - check the X credentials"
        )
    if isinstance(exc, tweepy.TwitterServerError):
        return TransientError(collector, f"X answered {exc.response.status_code}")
    if isinstance(exc, tweepy.HTTPException):
        detail = "; ".join(exc.api_messages) or exc.response.reason
        return BrokenPayload(collector, f"X answered {exc.response.status_code}: {detail}")
    if isinstance(exc, requests.RequestException):
        return TransientError(collector, f"network error: {type(exc).__name__}: {exc}")
    return BrokenPayload(collector, f"unreadable X response: {exc!r}")


def make_twitter_client(bearer_token: str, api_url: str) -> tweepy.Client:
    """A real tweepy.Client whose session goes to `api_url`; rate limits are raised, not slept on,
    so the runner records them in the collector's health before it waits."""
    client = tweepy.Client(bearer_token=bearer_token, wait_on_rate_limit=False)
    rebase_session(client.session, TWITTER_API_URL, api_url)
    return client


def overlap_since(since_id: int, overlap_s: float) -> int:
    """The tweet id `overlap_s` seconds before `since_id`."""
    return max(1, since_id - (int(overlap_s * 1000) << SNOWFLAKE_SHIFT))


class TwitterCollector(Collector):
    name = "twitter"

    def __init__(
        self,
        brands: Sequence[Brand],
        options: CollectOptions,
        client: tweepy.Client,
        *,
        overlap_s: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.brands = list(brands)
        self.options = options
        self.client = client
        self.overlap_s = overlap_s
        self.clock = clock
        self._own = {h.casefold(): b for b in self.brands for h in b.twitter.handles}

    def fetch(self, cursors: Mapping[str, str]) -> Iterator[Page]:
        for brand in self.brands:
            for number, query in enumerate(brand.queries):
                key = f"search:{brand.name}:{number}"
                yield from self._guard(key, self.client.search_recent_tweets, brand, cursors, query)
            for handle in brand.twitter.handles:
                user_key = f"user:{handle.casefold()}"
                user_id = cursors.get(user_key)
                if user_id is None:
                    user_id = self._user_id(handle)
                    if user_id is None:
                        continue
                    yield Page([], [CursorUpdate(user_key, user_id)])
                yield from self._guard(
                    f"mentions:{handle.casefold()}", self.client.get_users_mentions, brand, cursors, user_id
                )
                yield from self._guard(
                    f"timeline:{handle.casefold()}", self.client.get_users_tweets, brand, cursors, user_id
                )

    def _user_id(self, handle: str) -> str | None:
        try:
            response = self.client.get_user(username=handle)
        except (tweepy.TweepyException, requests.RequestException) as exc:
            error = twitter_error(exc, self.name)
            if isinstance(error, BrokenPayload):
                log.warning("twitter: account @%s skipped: %s", handle, error.message)
                return None
            raise error from exc
        if response.data is None:
            log.warning("twitter: account @%s not found; its mentions are not collected", handle)
            return None
        return str(response.data.id)

    def _guard(
        self, key: str, method: Callable[..., Any], brand: Brand, cursors: Mapping[str, str], first: str
    ) -> Iterator[Page]:
        try:
            yield from self._feed(key, method, brand, cursors, first)
        except BrokenPayload as exc:
            log.warning("twitter: feed %s skipped this poll: %s", key, exc.message)

    def _feed(
        self, key: str, method: Callable[..., Any], brand: Brand, cursors: Mapping[str, str], first: str
    ) -> Iterator[Page]:
        state = json.loads(cursors.get(key, "{}"))
        run = state.get("run")
        if run is None:
            since = state.get("since_id")
            run = {
                "since_id": overlap_since(int(since), self.overlap_s) if since else None,
                "next_token": None,
                "newest": since,
            }
        params: dict[str, Any] = {
            "tweet_fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user_fields": USER_FIELDS,
            "max_results": PAGE_SIZE,
        }
        if run["since_id"]:
            params["since_id"] = run["since_id"]
        pages = iter(
            tweepy.Paginator(
                method, first, limit=self.options.max_pages, pagination_token=run["next_token"], **params
            )
        )
        while True:
            try:
                response = next(pages)
            except StopIteration:
                break
            except (tweepy.TweepyException, requests.RequestException) as exc:
                raise twitter_error(exc, self.name) from exc
            mentions = self._mentions(key, response, brand)
            newest = (response.meta or {}).get("newest_id")
            if newest and (run["newest"] is None or int(newest) > int(run["newest"])):
                run["newest"] = newest
            run["next_token"] = (response.meta or {}).get("next_token")
            if run["next_token"]:
                yield Page(mentions, [CursorUpdate(key, json.dumps({**state, "run": run}))])
            else:
                yield Page(mentions, [CursorUpdate(key, json.dumps({"since_id": run["newest"]}))])
                return
        if run["next_token"]:
            log.info("twitter: %s reached max_pages; the rest follows next poll", key)

    def _mentions(self, key: str, response: Any, brand: Brand) -> list[Mention]:
        users = {str(u.id): u for u in (response.includes or {}).get("users", [])}
        now = self.clock()
        out: list[Mention] = []
        for tweet in response.data or []:
            try:
                out.append(self._mention(tweet, users, brand, now))
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("twitter: skipped unreadable tweet in %s: %r", key, exc)
        return out

    def _mention(self, tweet: Any, users: Mapping[str, Any], brand: Brand, now: datetime) -> Mention:
        author_id = str(tweet.author_id)
        user = users.get(author_id)
        username = user.username if user is not None else None
        own = self._own.get(username.casefold()) if username else None
        parent = next((str(r.id) for r in tweet.referenced_tweets or [] if r.type == "replied_to"), None)
        metrics = tweet.public_metrics or {}
        followers = (user.public_metrics or {}).get("followers_count") if user is not None else None
        lang = (
            tweet.lang
            if tweet.lang in ("ru", "en")
            else ("other" if tweet.lang not in (None, "und") else None)
        )
        if tweet.created_at is None:
            raise ValueError(f"tweet {tweet.id} has no created_at")
        return Mention(
            source="twitter",
            external_id=str(tweet.id),
            thread_key=f"twitter:{tweet.conversation_id or tweet.id}",
            parent_external_id=parent,
            url=f"https://x.com/{username or 'i'}/status/{tweet.id}",
            author=Author(
                id=author_id,
                name=user.name if user is not None else None,
                handle=username,
                url=f"https://x.com/{username}" if username else None,
                followers=followers,
                is_brand=own is not None,
            ),
            text=tweet.text,
            lang=lang,
            created_at=tweet.created_at,
            collected_at=now,
            brand=(own or brand).name,
            metrics=Metrics(
                likes=metrics.get("like_count", 0),
                reposts=metrics.get("retweet_count", 0),
                replies=metrics.get("reply_count", 0),
                views=metrics.get("impression_count", 0),
            ),
        )
