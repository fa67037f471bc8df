"""VK collector (vk_api): brand search across VK, and the brand's own community walls with every
comment thread under their posts.

Feeds and their cursors (all in the database, see ingest.runner):
- `search:<brand>:<n>`: newsfeed.search for the brand's n-th query, newest first, paged by
  `next_from`. A run fixes its time window (start_time = last newest date minus the overlap,
  end_time = run start) and saves `next_from` after every page, so a restart resumes mid-run.
- `wall:<group>`: wall.get through VkTools.get_all_slow_iter, down to the newest of (last newest
  date minus the overlap) and (now minus `vk_comment_days`).
- `comments:<owner>_<post>`: the post's comment count when its thread was last read; a post whose
  count changed gets its thread re-read (wall.getComments, replies nested via `thread`).

A thread is the post plus its comments: every comment's thread_key is its post's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import vk_api
from vk_api.exceptions import ApiError, ApiHttpError, Captcha, VkApiError, VkToolsException

from core.brands import Brand, CollectOptions
from ingest.base import Collector, CursorUpdate, Page
from ingest.endpoints import rebase_session
from ingest.errors import AuthFailed, BrokenPayload, CaptchaRequired, RateLimited, TransientError
from schemas import Author, Mention, Metrics
from schemas.base import utc_now

log = logging.getLogger(__name__)

VK_API_URL = "https://api.vk.ru/method/"
SEARCH_PAGE = 200
WALL_PAGE = 100
COMMENTS_PAGE = 100
USER_FIELDS = "screen_name,followers_count"

# VK error codes (https://dev.vk.com/reference/errors)
AUTH_ERRORS = {5, 27, 28}
RATE_ERRORS = {6: 1.0, 9: 60.0}
DAILY_LIMIT = 29
DAILY_LIMIT_WAIT_S = 3600.0
ACCESS_ERRORS = {15, 18, 30, 203, 212}  # the one feed is unreadable; others go on


def vk_error(exc: BaseException, collector: str = "vk") -> Exception:
    """The CollectorError for a vk_api or requests exception (also used by the publisher)."""
    if isinstance(exc, Captcha):
        return CaptchaRequired(
            collector,
            f"VK asks for a captcha (error 14, sid {exc.sid}): solve it "
            "in a browser with this account, then restart the collector",
        )
    if isinstance(exc, ApiError):
        message = f"VK error {exc.code}: {exc.error.get('error_msg', '')}"
        if exc.code in AUTH_ERRORS:
            return AuthFailed(collector, f"{message} - the token was rejected; set a valid MD_VK_TOKEN")
        if exc.code in RATE_ERRORS:
            return RateLimited(collector, message, RATE_ERRORS[exc.code])
        if exc.code == DAILY_LIMIT:
            return RateLimited(collector, f"{message} (daily limit)", DAILY_LIMIT_WAIT_S)
        if exc.code == 10:
            return TransientError(collector, message)
        return BrokenPayload(collector, message)
    if isinstance(exc, ApiHttpError):
        return TransientError(collector, f"VK answered HTTP {exc.response.status_code}")
    if isinstance(exc, requests.RequestException):
        return TransientError(collector, f"network error: {type(exc).__name__}: {exc}")
    if isinstance(exc, ValueError | KeyError | TypeError | VkToolsException):
        return BrokenPayload(collector, f"unreadable VK response: {exc!r}")
    return TransientError(collector, f"{type(exc).__name__}: {exc}")


def make_vk_client(token: str, api_url: str, api_version: str, rps_delay: float) -> vk_api.VkApi:
    """A real vk_api.VkApi whose HTTP session goes to `api_url`.

    vk_api retries error 6 by itself after 0.5 s, forever; that handler is removed so the runner
    sees the rate limit, waits, records it in the collector's health and resumes from the cursors.
    """
    session = rebase_session(requests.Session(), VK_API_URL, api_url)
    client = vk_api.VkApi(token=token, api_version=api_version, session=session)
    client.RPS_DELAY = rps_delay
    client.error_handlers.pop(6, None)
    return client


@dataclass
class _Authors:
    """Names of VK users and communities, resolved in batches and cached for the collector's life."""

    users: dict[int, dict[str, Any]]
    groups: dict[int, dict[str, Any]]

    def learn(self, profiles: Iterable[dict[str, Any]], groups: Iterable[dict[str, Any]]) -> None:
        for profile in profiles:
            self.users[int(profile["id"])] = profile
        for group in groups:
            self.groups[int(group["id"])] = group


class VkCollector(Collector):
    name = "vk"

    def __init__(
        self,
        brands: Sequence[Brand],
        options: CollectOptions,
        client: vk_api.VkApi,
        *,
        overlap_s: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.brands = list(brands)
        self.options = options
        self.client = client
        self.tools = vk_api.VkTools(client)
        self.overlap = timedelta(seconds=overlap_s)
        self.clock = clock
        self.authors = _Authors({}, {})
        self._brand_groups = {g: b for b in self.brands for g in b.vk.communities}

    # ------------------------------------------------------------ plumbing

    def _call(self, method: str, values: dict[str, Any]) -> Any:
        try:
            return self.client.method(method, values)
        except (VkApiError, requests.RequestException) as exc:
            raise vk_error(exc, self.name) from exc

    def _paged(
        self, method: str, values: dict[str, Any], page: int, stop: Callable[[Any], bool] | None = None
    ) -> Iterator[dict[str, Any]]:
        iterator = self.tools.get_all_slow_iter(method, page, values, stop_fn=stop)
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                return
            except (VkApiError, requests.RequestException, KeyError, TypeError, ValueError) as exc:
                raise vk_error(exc, self.name) from exc
            yield item

    def _resolve(self, ids: Iterable[int]) -> None:
        users = sorted({i for i in ids if i > 0 and i not in self.authors.users})
        groups = sorted({-i for i in ids if i < 0 and -i not in self.authors.groups})
        for start in range(0, len(users), 1000):
            chunk = users[start : start + 1000]
            answer = self._call("users.get", {"user_ids": ",".join(map(str, chunk)), "fields": USER_FIELDS})
            self.authors.learn(answer, [])
        for start in range(0, len(groups), 500):
            chunk = groups[start : start + 500]
            answer = self._call("groups.getById", {"group_ids": ",".join(map(str, chunk))})
            self.authors.learn([], answer.get("groups", []) if isinstance(answer, dict) else answer)

    def _author(self, from_id: int, brand: Brand | None) -> Author:
        is_brand = from_id < 0 and brand is not None and -from_id in brand.vk.communities
        if from_id > 0:
            user = self.authors.users.get(from_id, {})
            name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p) or None
            handle = user.get("screen_name") or f"id{from_id}"
            return Author(
                id=str(from_id),
                name=name,
                handle=handle,
                url=f"https://vk.com/{handle}",
                followers=user.get("followers_count"),
                is_brand=False,
            )
        group = self.authors.groups.get(-from_id, {})
        handle = group.get("screen_name") or f"club{-from_id}"
        return Author(
            id=str(from_id),
            name=group.get("name"),
            handle=handle,
            url=f"https://vk.com/{handle}",
            followers=group.get("members_count"),
            is_brand=is_brand,
        )

    def _post_mention(self, item: dict[str, Any], brand: Brand, now: datetime) -> Mention | None:
        text = (item.get("text") or "").strip()
        if not text:
            return None
        owner, post = int(item["owner_id"]), int(item["id"])
        key = f"{owner}_{post}"
        return Mention(
            source="vk",
            external_id=key,
            thread_key=f"vk:wall{key}",
            url=f"https://vk.com/wall{key}",
            author=self._author(int(item.get("from_id", owner)), self._brand_groups.get(-owner, brand)),
            text=text,
            created_at=datetime.fromtimestamp(int(item["date"]), UTC),
            collected_at=now,
            brand=brand.name,
            metrics=Metrics(
                likes=_count(item, "likes"),
                reposts=_count(item, "reposts"),
                replies=_count(item, "comments"),
                views=_count(item, "views"),
            ),
        )

    def _comment_mention(
        self, item: dict[str, Any], parent: str, *, owner: int, post: int, brand: Brand, now: datetime
    ) -> Mention | None:
        text = (item.get("text") or "").strip()
        if item.get("deleted") or not text:
            return None
        comment = int(item["id"])
        url = f"https://vk.com/wall{owner}_{post}?reply={comment}"
        return Mention(
            source="vk",
            external_id=f"{owner}_{post}_{comment}",
            thread_key=f"vk:wall{owner}_{post}",
            parent_external_id=parent,
            url=url,
            author=self._author(int(item["from_id"]), brand),
            text=text,
            created_at=datetime.fromtimestamp(int(item["date"]), UTC),
            collected_at=now,
            brand=brand.name,
            metrics=Metrics(
                likes=_count(item, "likes"), replies=int((item.get("thread") or {}).get("count", 0))
            ),
        )

    def _safe(
        self, where: str, build: Callable[..., Mention | None], *args: Any, **kwargs: Any
    ) -> Mention | None:
        """One unreadable item is logged with its source and skipped; the page goes on."""
        try:
            return build(*args, **kwargs)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("vk: skipped unreadable item in %s: %r", where, exc)
            return None

    # ------------------------------------------------------------ feeds

    def fetch(self, cursors: Mapping[str, str]) -> Iterator[Page]:
        for brand in self.brands:
            for number, query in enumerate(brand.queries):
                yield from self._guard(
                    f"search:{brand.name}:{number}", self._search, brand, number, query, cursors
                )
            for group in brand.vk.communities:
                yield from self._guard(f"wall:{group}", self._wall, brand, group, cursors)

    def _guard(self, feed: str, run: Callable[..., Iterator[Page]], *args: Any) -> Iterator[Page]:
        """A feed that answers with a broken page or a refused resource is logged and skipped."""
        try:
            yield from run(*args)
        except BrokenPayload as exc:
            log.warning("vk: feed %s skipped this poll: %s", feed, exc.message)

    def _search(self, brand: Brand, number: int, query: str, cursors: Mapping[str, str]) -> Iterator[Page]:
        key = f"search:{brand.name}:{number}"
        state = json.loads(cursors.get(key, "{}"))
        run = state.get("run")
        now = self.clock()
        if run is None:
            since = state.get("since")
            start = (
                int(since - self.overlap.total_seconds())
                if since
                else int((now - timedelta(days=self.options.first_run_days)).timestamp())
            )
            run = {"start": start, "end": int(now.timestamp()), "next_from": None, "top": since or 0}
        for _ in range(self.options.max_pages):
            values: dict[str, Any] = {
                "q": query,
                "count": SEARCH_PAGE,
                "extended": 1,
                "fields": USER_FIELDS,
                "start_time": run["start"],
                "end_time": run["end"],
            }
            if run["next_from"]:
                values["start_from"] = run["next_from"]
            answer = self._call("newsfeed.search", values)
            self.authors.learn(answer.get("profiles", []), answer.get("groups", []))
            items = answer.get("items", [])
            mentions = [m for item in items if (m := self._safe(key, self._post_mention, item, brand, now))]
            run["top"] = max([run["top"], *(int(i.get("date", 0)) for i in items)])
            run["next_from"] = answer.get("next_from") or None
            if run["next_from"] and items:
                yield Page(
                    mentions, [CursorUpdate(key, json.dumps({"since": state.get("since"), "run": run}))]
                )
                continue
            yield Page(mentions, [CursorUpdate(key, json.dumps({"since": run["top"] or None}))])
            return
        log.info("vk: %s reached max_pages; the rest follows next poll", key)

    def _wall(self, brand: Brand, group: int, cursors: Mapping[str, str]) -> Iterator[Page]:
        key = f"wall:{group}"
        owner = -group
        now = self.clock()
        since = int(cursors.get(key, "0"))
        emit_after = since - self.overlap.total_seconds() if since else 0
        horizon = min(emit_after, (now - timedelta(days=self.options.vk_comment_days)).timestamp())

        def too_old(items: list[dict[str, Any]]) -> bool:
            unpinned = [i for i in items if not i.get("is_pinned")]
            return bool(unpinned) and int(unpinned[-1].get("date", 0)) < horizon

        posts: list[dict[str, Any]] = []
        for item in self._paged("wall.get", {"owner_id": owner, "filter": "all"}, WALL_PAGE, too_old):
            if int(item.get("date", 0)) >= horizon:
                posts.append(item)
        self._resolve(int(p.get("from_id", owner)) for p in posts)
        fresh = [p for p in posts if int(p.get("date", 0)) >= emit_after]
        mentions = [m for p in fresh if (m := self._safe(key, self._post_mention, p, brand, now))]
        top = max([since, *(int(p.get("date", 0)) for p in posts)])
        yield Page(mentions, [CursorUpdate(key, str(top))])
        for post in sorted(posts, key=lambda p: int(p.get("date", 0))):
            count = _count(post, "comments")
            thread_key = f"comments:{owner}_{post['id']}"
            if count == 0 or cursors.get(thread_key) == str(count):
                continue
            try:
                comments = self._thread(owner, int(post["id"]), brand, now)
            except BrokenPayload as exc:
                log.warning("vk: comments of wall%s_%s skipped: %s", owner, post["id"], exc.message)
                continue
            yield Page(comments, [CursorUpdate(thread_key, str(count))])

    def _thread(self, owner: int, post: int, brand: Brand, now: datetime) -> list[Mention]:
        """The post's comments, replies included, parents before children."""
        base = {"owner_id": owner, "post_id": post, "need_likes": 1, "sort": "asc", "thread_items_count": 10}
        top_level = list(self._paged("wall.getComments", base, COMMENTS_PAGE))
        replies: list[tuple[dict[str, Any], str]] = []
        for comment in top_level:
            thread = comment.get("thread") or {}
            nested = list(thread.get("items") or [])
            if int(thread.get("count", 0)) > len(nested):
                nested = list(
                    self._paged("wall.getComments", {**base, "comment_id": comment["id"]}, COMMENTS_PAGE)
                )
            replies.extend((r, f"{owner}_{post}_{comment['id']}") for r in nested)
        self._resolve(
            [int(c["from_id"]) for c in top_level if "from_id" in c]
            + [int(r["from_id"]) for r, _ in replies if "from_id" in r]
        )
        where = f"wall{owner}_{post}"
        context: dict[str, Any] = {"owner": owner, "post": post, "brand": brand, "now": now}
        pairs = [(c, f"{owner}_{post}") for c in top_level]
        for reply, top in replies:
            parent = f"{owner}_{post}_{reply['reply_to_comment']}" if reply.get("reply_to_comment") else top
            pairs.append((reply, parent))
        return [
            m
            for item, parent in pairs
            if (m := self._safe(where, self._comment_mention, item, parent, **context))
        ]


def _count(item: dict[str, Any], field: str) -> int:
    value = item.get(field)
    if isinstance(value, dict):
        return max(0, int(value.get("count", 0)))
    return 0
