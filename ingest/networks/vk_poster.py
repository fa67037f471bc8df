"""Replies on VK: wall.createComment in the post's thread, under the comment answered.

`guid` is the reply id: VK treats a repeated call with the same guid as the same comment, which
is what makes a retry after a crash safe on VK.
"""

from __future__ import annotations

from datetime import datetime

import requests
import vk_api
from vk_api.exceptions import VkApiError

from ingest.errors import BrokenPayload
from ingest.networks import Posted
from ingest.vk import vk_error
from schemas import Reply


def parse_target(in_reply_to: str) -> tuple[int, int, int | None]:
    """ "-1001_101" (a post) or "-1001_101_10000002" (a comment) -> owner, post, comment."""
    parts = in_reply_to.split("_")
    if len(parts) not in (2, 3):
        raise BrokenPayload("publisher", f"not a VK post or comment id: {in_reply_to!r}")
    try:
        numbers = [int(p) for p in parts]
    except ValueError as exc:
        raise BrokenPayload("publisher", f"not a VK post or comment id: {in_reply_to!r}") from exc
    return numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else None


class VkPoster:
    def __init__(self, client: vk_api.VkApi) -> None:
        self.client = client

    def post(self, reply: Reply) -> Posted:
        owner, post, comment = parse_target(reply.in_reply_to)
        values: dict[str, object] = {
            "owner_id": owner,
            "post_id": post,
            "message": reply.text,
            "guid": str(reply.reply_id),
        }
        if owner < 0:
            values["from_group"] = -owner
        if comment is not None:
            values["reply_to_comment"] = comment
        try:
            answer = self.client.method("wall.createComment", values)
        except (VkApiError, requests.RequestException) as exc:
            raise vk_error(exc, "publisher") from exc
        new_id = int(answer["comment_id"])
        return Posted(f"{owner}_{post}_{new_id}", f"https://vk.com/wall{owner}_{post}?reply={new_id}")

    def find(self, reply: Reply, since: datetime) -> list[Posted]:
        """VK deduplicates by guid, so posting again is the check."""
        return []
