"""A fake X API v2 on 127.0.0.1, reached by the real tweepy.Client.

Endpoints: GET /2/tweets/search/recent (query words, since_id, next_token), GET
/2/users/by/username/:username, GET /2/users/:id/mentions and /2/users/:id/tweets (since_id,
pagination_token), GET /2/users/me, POST /2/tweets (reply.in_reply_to_tweet_id). Bodies follow the
recorded ones (tests/fakes/README.md): data[] with only the requested tweet.fields (plus id, text,
edit_history_tweet_ids), includes.users / includes.tweets for the expansions, meta {newest_id,
oldest_id, result_count, next_token}; every answer carries x-rate-limit-limit/-remaining/-reset;
429 and 401 carry the real problem bodies. Tweet ids are snowflakes of their creation time.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.httpbase import FakeServer, JsonHandler

TWITTER_EPOCH_MS = 1288834974657
_seq = itertools.count()

TOO_MANY = {"title": "Too Many Requests", "type": "about:blank", "status": 429, "detail": "Too Many Requests"}
UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}


def snowflake(ts: float) -> int:
    return ((int(ts * 1000) - TWITTER_EPOCH_MS) << 22) | (next(_seq) % 4096)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class TwitterData:
    tweets: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_user(self, uid: str, username: str, followers: int = 10) -> None:
        self.users[uid] = {
            "id": uid,
            "name": username.title(),
            "username": username,
            "public_metrics": {
                "followers_count": followers,
                "following_count": 1,
                "tweet_count": 1,
                "listed_count": 0,
            },
        }

    def add_tweet(self, author: str, text: str, ts: float, reply_to: str | None = None) -> dict[str, Any]:
        tid = str(snowflake(ts))
        tweet: dict[str, Any] = {
            "id": tid,
            "text": text,
            "edit_history_tweet_ids": [tid],
            "author_id": author,
            "created_at": iso(ts),
            "lang": "ru",
            "conversation_id": tid,
            "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 1, "quote_count": 0},
        }
        if reply_to is not None:
            parent = self.tweets[reply_to]
            tweet["conversation_id"] = parent["conversation_id"]
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
            tweet["in_reply_to_user_id"] = parent["author_id"]
        self.tweets[tid] = tweet
        return tweet


def stored_like_x(text: str) -> str:
    """The text as X stores and returns it: trimmed, `&`, `<`, `>` as entities, links as t.co."""
    escaped = html.escape(text.strip(), quote=False)
    return re.sub(
        r"https?://\S+",
        lambda m: "https://t.co/" + hashlib.sha1(m.group().encode()).hexdigest()[:10],
        escaped,
    )


def generate(brands: dict[str, str], *, per_brand: int = 1000, now: float | None = None) -> TwitterData:
    """Per brand (name -> account id, handle = name): conversations of four tweets - a customer's
    post naming the brand (search), a reply to @handle (mentions), the brand's answer (timeline),
    and the customer's follow-up naming the brand (search) - `per_brand` tweets in all."""
    now = now or time.time()
    data = TwitterData()
    for b, (brand, account) in enumerate(brands.items()):
        data.add_user(account, brand, 50_000)
        for i in range(per_brand // 4):
            customer, other = f"{9000 + b * 1000 + i}", f"{500000 + b * 1000 + i}"
            data.add_user(customer, f"cust{customer}")
            data.add_user(other, f"fan{other}")
            t0 = now - 30 * 3600 + i * 200
            root = data.add_tweet(customer, f"{brand} опять не работает #{i}", t0)
            second = data.add_tweet(other, f"@{brand} у меня тоже #{i}", t0 + 30, root["id"])
            answer = data.add_tweet(account, f"@cust{customer} разбираемся #{i}", t0 + 60, second["id"])
            data.add_tweet(customer, f"спасибо, {brand} #{i}", t0 + 90, answer["id"])
    return data


class TwitterHandler(JsonHandler):
    fake: FakeTwitter

    def do_GET(self) -> None:
        parsed = urlparse(self.path)
        status, body, headers = self.fake.handle(
            "GET", parsed.path, parse_qs(parsed.query), None, self.headers
        )
        self.send_json(status, body, headers)

    def do_POST(self) -> None:
        raw = self.read_body()
        parsed = urlparse(self.path)
        payload = json.loads(raw) if raw else {}
        status, body, headers = self.fake.handle("POST", parsed.path, {}, payload, self.headers)
        self.send_json(status, body, headers)


class FakeTwitter(FakeServer):
    handler = TwitterHandler

    def __init__(
        self,
        data: TwitterData | None = None,
        *,
        bearer: Iterable[str] = ("tw-test-bearer",),
        me: str | None = None,
    ) -> None:
        super().__init__()
        self.data = data or TwitterData()
        self.bearer = set(bearer)
        self.me = me
        self.calls: list[str] = []
        self.errors: dict[int, int] = {}  # call number -> status to answer instead (429)
        self.reset_ahead_s = 1
        self.posted: list[dict[str, Any]] = []
        self.hang_next_post = threading.Event()
        self.release = threading.Event()
        self.fail_posts: dict[str, tuple[int, dict[str, Any]]] = {}  # in_reply_to -> (status, body)
        self.posts_limited_until = 0.0  # POST /2/tweets answers 429 (reset at this time) until then

    def inject(self, status: int, at_calls: Iterable[int]) -> None:
        for n in at_calls:
            self.errors[n] = status

    def _limits(self, remaining: int = 449) -> dict[str, str]:
        return {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(time.time()) + self.reset_ahead_s),
        }

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], payload: Any, headers: Any
    ) -> tuple[int, Any, dict[str, str]]:
        params = {k: v[-1] for k, v in query.items()}
        with self.lock:
            self.calls.append(f"{method} {path}")
            number = len(self.calls)
            auth = headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                if auth.removeprefix("Bearer ") not in self.bearer:
                    return 401, UNAUTHORIZED, {}
            elif not auth.startswith("OAuth "):
                return 401, UNAUTHORIZED, {}
            if self.errors.get(number) == 429:
                del self.errors[number]
                return 429, TOO_MANY, self._limits(0)
            parts = path.strip("/").split("/")
            if method == "POST" and parts == ["2", "tweets"]:
                return self._post(payload)
            if parts[:3] == ["2", "tweets", "search"]:
                words = params.get("query", "").casefold().replace('"', "").split()
                return (
                    200,
                    self._timeline(
                        lambda t: all(
                            w in t["text"].casefold() for w in words if not w.startswith("-") and ":" not in w
                        ),
                        params,
                    ),
                    self._limits(),
                )
            if parts[:4] == ["2", "users", "by", "username"]:
                user = next(
                    (u for u in self.data.users.values() if u["username"].casefold() == parts[4].casefold()),
                    None,
                )
                if user is None:
                    return (
                        200,
                        {
                            "errors": [
                                {
                                    "detail": f"Could not find user with username: [{parts[4]}].",
                                    "title": "Not Found Error",
                                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                                }
                            ]
                        },
                        {},
                    )
                return 200, {"data": {k: user[k] for k in ("id", "name", "username")}}, self._limits()
            if parts == ["2", "users", "me"]:
                user = self.data.users[self.me or ""]
                return 200, {"data": {k: user[k] for k in ("id", "name", "username")}}, self._limits()
            if len(parts) == 4 and parts[:2] == ["2", "users"] and parts[3] in ("mentions", "tweets"):
                uid = parts[2]
                if parts[3] == "tweets":
                    return 200, self._timeline(lambda t: t["author_id"] == uid, params), self._limits()
                name = "@" + self.data.users[uid]["username"].casefold()
                return 200, self._timeline(lambda t: name in t["text"].casefold(), params), self._limits()
            return 404, {"title": "Not Found Error", "status": 404, "type": "about:blank", "detail": path}, {}

    def _timeline(self, keep: Any, params: dict[str, str]) -> dict[str, Any]:
        since = int(params.get("since_id") or 0)
        token = params.get("next_token") or params.get("pagination_token")
        below = int(token, 16) if token else None
        found = sorted(
            (
                t
                for t in self.data.tweets.values()
                if int(t["id"]) > since and keep(t) and (below is None or int(t["id"]) < below)
            ),
            key=lambda t: int(t["id"]),
            reverse=True,
        )
        size = min(int(params.get("max_results", 10)), 100)
        page, rest = found[:size], found[size:]
        fields = set(params.get("tweet.fields", "").split(",")) | {"id", "text", "edit_history_tweet_ids"}
        body: dict[str, Any] = {"meta": {"result_count": len(page)}}
        if page:
            body["data"] = [{k: v for k, v in t.items() if k in fields} for t in page]
            body["meta"].update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
            expansions = params.get("expansions", "").split(",")
            user_ids: list[str] = []
            if "author_id" in expansions:
                user_ids += [t["author_id"] for t in page]
            if "in_reply_to_user_id" in expansions:
                user_ids += [t["in_reply_to_user_id"] for t in page if "in_reply_to_user_id" in t]
            ufields = set(params.get("user.fields", "").split(",")) | {"id", "name", "username"}
            users = [
                {k: v for k, v in self.data.users[u].items() if k in ufields} for u in dict.fromkeys(user_ids)
            ]
            includes: dict[str, Any] = {"users": users}
            if "referenced_tweets.id" in expansions:
                refs = [r["id"] for t in page for r in t.get("referenced_tweets", [])]
                includes["tweets"] = [
                    {k: v for k, v in self.data.tweets[r].items() if k in fields}
                    for r in dict.fromkeys(refs)
                    if r in self.data.tweets
                ]
            body["includes"] = includes
        if rest and page:
            body["meta"]["next_token"] = format(int(page[-1]["id"]), "x")
        return body

    def _post(self, payload: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        reply_to = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        if time.time() < self.posts_limited_until:
            limits = {**self._limits(0), "x-rate-limit-reset": str(int(self.posts_limited_until) + 1)}
            return 429, TOO_MANY, limits
        if reply_to in self.fail_posts:
            status, body = self.fail_posts[reply_to]
            return status, body, self._limits()
        if reply_to is not None and reply_to not in self.data.tweets:
            return (
                403,
                {
                    "detail": "You attempted to reply to a Tweet that is deleted or not visible to you.",
                    "type": "about:blank",
                    "title": "Forbidden",
                    "status": 403,
                },
                {},
            )
        tweet = self.data.add_tweet(self.me or "0", stored_like_x(payload["text"]), time.time(), reply_to)
        self.posted.append(tweet)
        hang = self.hang_next_post.is_set()
        self.hang_next_post.clear()
        if hang:
            self.lock.release()
            try:
                self.release.wait(60)
            finally:
                self.lock.acquire()
        return (
            201,
            {"data": {"id": tweet["id"], "text": tweet["text"], "edit_history_tweet_ids": [tweet["id"]]}},
            self._limits(199),
        )
