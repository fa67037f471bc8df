"""A fake VK API (https://api.vk.ru/method/<name>) on 127.0.0.1, reached by the real vk_api client.

Methods: newsfeed.search (next_from paging, start_time/end_time), wall.get (offset paging, newest
first), wall.getComments (offset paging, `thread` previews of thread_items_count replies, a
comment's replies by comment_id), users.get, groups.getById (5.199 shape), wall.createComment
(guid makes a repeated call return the first comment, as VK's guid does). Errors use VK's body:
{"error": {"error_code", "error_msg", "request_params": [{"key", "value"}]}} (see
tests/fakes/README.md for the recorded bodies these shapes follow). Generated data keeps the field
names and nesting of the recorded responses.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.httpbase import FakeServer, JsonHandler

ERROR_MESSAGES = {
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    9: "Flood control",
    14: "Captcha needed",
    15: "Access denied",
    29: "Rate limit reached",
}


@dataclass
class VkData:
    """The fake network's content: walls (owner -> posts), comments, people and communities."""

    walls: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    comments: dict[tuple[int, int], list[dict[str, Any]]] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    groups: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_comment_id: int = 10_000_000

    def all_posts(self) -> Iterable[dict[str, Any]]:
        for posts in self.walls.values():
            yield from posts

    def add_comment(self, owner: int, post: int, author: int, text: str) -> dict[str, Any]:
        """A new top-level comment under a post, counted in the post's comments as VK does (the
        collector re-reads a thread whose count changed)."""
        self.next_comment_id += 1
        comment = _comment(self.next_comment_id, author, owner, post, int(time.time()), text)
        comment["_replies"] = []
        self.comments.setdefault((owner, post), []).append(comment)
        self.recount(owner, post)
        return comment

    def recount(self, owner: int, post: int) -> None:
        top = self.comments.get((owner, post), [])
        for entry in self.walls.get(owner, []):
            if entry["id"] == post:
                entry["comments"]["count"] = sum(1 + len(c["_replies"]) for c in top)

    def expected_ids(self) -> set[str]:
        """External ids of every post and comment a collector should deliver (text not empty)."""
        ids = {f"{p['owner_id']}_{p['id']}" for p in self.all_posts() if p.get("text")}
        for (owner, post), top in self.comments.items():
            for c in top:
                if c.get("text") and not c.get("deleted"):
                    ids.add(f"{owner}_{post}_{c['id']}")
                for r in c["_replies"]:
                    ids.add(f"{owner}_{post}_{r['id']}")
        return ids


def _user(uid: int) -> dict[str, Any]:
    return {
        "id": uid,
        "first_name": f"Имя{uid}",
        "last_name": f"Фамилия{uid}",
        "screen_name": f"user{uid}",
        "can_access_closed": True,
        "is_closed": False,
        "followers_count": uid % 500,
    }


def generate(
    brands: dict[str, int],
    *,
    per_brand: int = 1000,
    wall_posts: int = 120,
    now: float | None = None,
    seed: int = 7,
) -> VkData:
    """For each brand (name -> community id): `wall_posts` community posts with comment threads
    (one deep thread of 14 replies, beyond the 10-reply preview), one deleted comment and one
    attachment-only post, plus posts by users that name the brand, `per_brand` mentions in all."""
    rng = random.Random(seed)
    now = now or time.time()
    data = VkData()
    post_id = 100
    for b, (brand, group) in enumerate(brands.items()):
        data.groups[group] = {
            "id": group,
            "name": f"{brand.title()} official",
            "screen_name": brand,
            "is_closed": 0,
            "type": "page",
            "members_count": 10_000,
        }
        owner = -group
        posts: list[dict[str, Any]] = []
        count = 0
        for i in range(wall_posts):
            post_id += 1
            date = int(now - 36 * 3600 + i * 600)
            posts.append(_post(owner, owner, post_id, date, f"{brand} news #{i}: новости {brand}"))
            count += 1
            top: list[dict[str, Any]] = []
            n_top, n_rep = (3, 14) if i == 0 else (4, 2)
            for k in range(n_top):
                data.next_comment_id += 1
                uid = 1000 + b * 10_000 + rng.randrange(5000)
                data.users.setdefault(uid, _user(uid))
                comment = _comment(
                    data.next_comment_id, uid, owner, post_id, date + 60 * (k + 1), f"вопрос {k}"
                )
                replies: list[dict[str, Any]] = []
                for r in range(n_rep if k == 0 else 0):
                    data.next_comment_id += 1
                    author = owner if r == 0 else uid
                    reply = _comment(
                        data.next_comment_id,
                        author,
                        owner,
                        post_id,
                        date + 600 + r * 30,
                        f"ответ {r}",
                        parents=[comment["id"]],
                    )
                    if r > 1:
                        reply["reply_to_comment"] = replies[-1]["id"]
                        reply["reply_to_user"] = replies[-1]["from_id"]
                    replies.append(reply)
                comment["_replies"] = replies
                top.append(comment)
                count += 1 + len(replies)
            if i == 1:
                data.next_comment_id += 1
                deleted = {
                    "id": data.next_comment_id,
                    "parents_stack": [],
                    "date": date + 5,
                    "deleted": True,
                    "_replies": [],
                    "thread": {"count": 0, "items": [], "can_post": True},
                }
                top.insert(0, deleted)
            data.comments[(owner, post_id)] = top
            posts[-1]["comments"]["count"] = sum(1 + len(c["_replies"]) for c in top)
        post_id += 1
        posts.append(_post(owner, owner, post_id, int(now - 40 * 3600), ""))  # attachments only: no text
        data.walls[owner] = posts
        for i in range(per_brand - count):
            post_id += 1
            uid = 50_000 + b * 10_000 + i
            data.users.setdefault(uid, _user(uid))
            data.walls.setdefault(uid, []).append(
                _post(uid, uid, post_id, int(now - 30 * 3600 + i * 60), f"Кто пользуется {brand}? отзыв {i}")
            )
    return data


def _post(owner: int, author: int, pid: int, date: int, text: str) -> dict[str, Any]:
    return {
        "id": pid,
        "owner_id": owner,
        "from_id": author,
        "date": date,
        "post_type": "post",
        "text": text,
        "comments": {"count": 0, "can_post": 1},
        "likes": {"count": 1, "user_likes": 0, "can_like": 1},
        "reposts": {"count": 0, "user_reposted": 0},
        "views": {"count": 10},
        "post_source": {"type": "api"},
    }


def _comment(  # noqa: PLR0917  (a record builder, positional like the fields)
    cid: int, author: int, owner: int, post: int, date: int, text: str, *, parents: list[int] | None = None
) -> dict[str, Any]:
    return {
        "id": cid,
        "from_id": author,
        "post_id": post,
        "owner_id": owner,
        "parents_stack": parents or [],
        "date": date,
        "text": text,
        "likes": {"count": 0, "user_likes": 0, "can_like": 1},
    }


def _public(comment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in comment.items() if not k.startswith("_")}


class VkHandler(JsonHandler):
    fake: FakeVk

    def do_POST(self) -> None:
        self._dispatch(parse_qs(self.read_body().decode("utf-8")))

    def do_GET(self) -> None:
        self._dispatch(parse_qs(urlparse(self.path).query))

    def _dispatch(self, query: dict[str, list[str]]) -> None:
        values = {k: v[-1] for k, v in query.items()}
        method = urlparse(self.path).path.rsplit("/", 1)[-1]
        body = self.fake.handle(method, values)
        self.send_json(200, body)


class FakeVk(FakeServer):
    """Fake VK. `url` + "/method/" is the value for MD_VK_API_URL."""

    handler = VkHandler

    def __init__(self, data: VkData | None = None, *, tokens: Iterable[str] = ("vk-test-token",)) -> None:
        super().__init__()
        self.data = data or VkData()
        self.tokens = set(tokens)
        self.calls: list[str] = []
        self.errors: dict[int, int] = {}  # call number -> error code to answer instead
        self.created: dict[str, dict[str, Any]] = {}  # guid -> created comment
        self.create_calls = 0
        self.hang_next_create = threading.Event()
        self.release = threading.Event()

    @property
    def api_url(self) -> str:
        return f"{self.url}/method/"

    def inject(self, code: int, at_calls: Iterable[int]) -> None:
        for n in at_calls:
            self.errors[n] = code

    def error(self, code: int, method: str, values: dict[str, str]) -> dict[str, Any]:
        params = [{"key": "oauth", "value": "1"}, {"key": "method", "value": method}]
        params += [{"key": k, "value": v} for k, v in values.items() if k not in ("access_token",)]
        body: dict[str, Any] = {
            "error_code": code,
            "error_msg": ERROR_MESSAGES.get(code, "Unknown error occured"),
            "request_params": params,
        }
        if code == 14:
            body.update(
                captcha_sid="548747100691", captcha_img="http://api.vk.com/captcha.php?sid=548747100691&s=1"
            )
        return {"error": body}

    def handle(self, method: str, values: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            self.calls.append(method)
            number = len(self.calls)
            if values.get("access_token") not in self.tokens:
                return self.error(5, method, values)
            if number in self.errors:
                return self.error(self.errors.pop(number), method, values)
            route = getattr(self, "m_" + method.replace(".", "_"), None)
            if route is None:
                return self.error(3, method, values)
        if method == "wall.createComment":
            return self.m_wall_createComment(values)
        with self.lock:
            return {"response": route(values)}

    # ------------------------------------------------------------ methods

    def m_users_get(self, values: dict[str, str]) -> list[dict[str, Any]]:
        ids = [int(i) for i in values.get("user_ids", "").split(",") if i]
        return [self.data.users.get(i, _user(i)) for i in ids]

    def m_groups_getById(self, values: dict[str, str]) -> dict[str, Any]:
        ids = [int(i) for i in values.get("group_ids", "").split(",") if i]
        groups = [
            self.data.groups.get(i, {"id": i, "name": f"club{i}", "screen_name": f"club{i}"}) for i in ids
        ]
        return {"groups": groups, "profiles": []}

    def _authors(self, ids: Iterable[int]) -> dict[str, Any]:
        ids = set(ids)
        return {
            "profiles": [self.data.users.get(i, _user(i)) for i in sorted(i for i in ids if i > 0)],
            "groups": [self.data.groups[-i] for i in sorted(ids) if i < 0 and -i in self.data.groups],
        }

    def m_newsfeed_search(self, values: dict[str, str]) -> dict[str, Any]:
        words = values.get("q", "").casefold().replace('"', "").split()
        start, end = int(values.get("start_time", 0)), int(values.get("end_time", 2**40))
        found = [
            p
            for p in self.data.all_posts()
            if p.get("text")
            and start <= p["date"] <= end
            and all(w in p["text"].casefold() for w in words if not w.startswith("-"))
        ]
        found.sort(key=lambda p: (p["date"], p["id"]), reverse=True)
        offset = int(values.get("start_from") or 0)
        count = min(int(values.get("count", 30)), 200)
        page = found[offset : offset + count]
        more = offset + count < len(found)
        body = {
            "items": page,
            "count": len(page),
            "total_count": len(found),
            **(self._authors(p["from_id"] for p in page) if values.get("extended") == "1" else {}),
        }
        if more:
            body["next_from"] = str(offset + count)
        return body

    def m_wall_get(self, values: dict[str, str]) -> dict[str, Any]:
        posts = sorted(
            self.data.walls.get(int(values["owner_id"]), []), key=lambda p: p["date"], reverse=True
        )
        offset, count = int(values.get("offset", 0)), min(int(values.get("count", 20)), 100)
        return {"count": len(posts), "items": posts[offset : offset + count]}

    def m_wall_getComments(self, values: dict[str, str]) -> dict[str, Any]:
        owner, post = int(values["owner_id"]), int(values["post_id"])
        top = self.data.comments.get((owner, post), [])
        offset, count = int(values.get("offset", 0)), min(int(values.get("count", 10)), 100)
        if values.get("comment_id"):
            parent = next((c for c in top if c["id"] == int(values["comment_id"])), None)
            replies = parent["_replies"] if parent else []
            return {
                "count": len(replies),
                "current_level_count": len(replies),
                "items": [_public(r) for r in replies[offset : offset + count]],
                "can_post": True,
                "show_reply_button": True,
            }
        preview = int(values.get("thread_items_count", 0))
        items = []
        for c in top[offset : offset + count]:
            item = _public(c)
            item["thread"] = {
                "count": len(c["_replies"]),
                "items": [_public(r) for r in c["_replies"][:preview]],
                "can_post": True,
                "show_reply_button": True,
                "groups_can_post": True,
            }
            items.append(item)
        return {
            "count": len(top),
            "current_level_count": len(top),
            "items": items,
            "can_post": True,
            "show_reply_button": True,
            "groups_can_post": True,
        }

    def m_wall_createComment(self, values: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            self.create_calls += 1
            guid = values.get("guid") or f"noguid-{self.create_calls}"
            if guid in self.created:
                return {"response": {"comment_id": self.created[guid]["id"], "parents_stack": []}}
            owner, post = int(values["owner_id"]), int(values["post_id"])
            if (owner, post) not in self.data.comments:
                return self.error(15, "wall.createComment", values)
            self.data.next_comment_id += 1
            author = -int(values["from_group"]) if values.get("from_group") not in (None, "0") else 1
            comment = _comment(
                self.data.next_comment_id,
                -abs(author),
                owner,
                post,
                int(time.time()),
                values.get("message", ""),
            )
            comment["_replies"] = []
            comment["_guid"] = guid
            comment["_reply_to"] = int(values["reply_to_comment"]) if values.get("reply_to_comment") else None
            self.data.comments[(owner, post)].append(comment)
            self.data.recount(owner, post)
            self.created[guid] = comment
            hang = self.hang_next_create.is_set()
            self.hang_next_create.clear()
        if hang:  # the comment exists; the caller never hears of it
            self.release.wait(60)
        return {"response": {"comment_id": comment["id"], "parents_stack": []}}
