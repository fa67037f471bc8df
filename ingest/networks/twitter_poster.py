"""Replies on X: create_tweet(in_reply_to_tweet_id=...) from the brand's account (user context).

X has no idempotency key, so a reply attempted before is first looked for among the account's own
tweets: a reply to the same tweet, by us, since the first attempt.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import requests
import tweepy

from ingest.networks import Posted
from ingest.twitter import twitter_error
from schemas import Reply

CLOCK_SKEW = timedelta(minutes=1)


class TwitterPoster:
    def __init__(self, client: tweepy.Client) -> None:
        self.client = client
        self._me: tuple[str, str] | None = None

    def _account(self) -> tuple[str, str]:
        if self._me is None:
            try:
                me = self.client.get_me(user_auth=True).data
            except (tweepy.TweepyException, requests.RequestException) as exc:
                raise twitter_error(exc, "publisher") from exc
            self._me = (str(me.id), str(me.username))
        return self._me

    def post(self, reply: Reply) -> Posted:
        _, username = self._account()
        try:
            response = self.client.create_tweet(
                text=reply.text, in_reply_to_tweet_id=reply.in_reply_to, user_auth=True
            )
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise twitter_error(exc, "publisher") from exc
        tweet_id = str(response.data["id"])
        return Posted(tweet_id, f"https://x.com/{username}/status/{tweet_id}")

    def find(self, reply: Reply, since: datetime) -> list[Posted]:
        """Our tweets replying to the same tweet, created since `since` (less a minute of clock
        skew), earliest first. Matched by target, author and time, never by text: X rewrites the
        text it stores (t.co links, `&amp;`, trimmed whitespace)."""
        user_id, username = self._account()
        start = since - CLOCK_SKEW
        found: list[tuple[datetime, str]] = []
        try:
            pages = tweepy.Paginator(
                self.client.get_users_tweets,
                user_id,
                since_id=reply.in_reply_to,
                limit=5,
                tweet_fields=["referenced_tweets", "created_at", "author_id"],
                max_results=100,
                user_auth=True,
            )
            for page in pages:
                for tweet in page.data or []:
                    replied = {str(r.id) for r in tweet.referenced_tweets or [] if r.type == "replied_to"}
                    mine = tweet.author_id is None or str(tweet.author_id) == user_id
                    created = tweet.created_at
                    if reply.in_reply_to in replied and mine and created is not None and created >= start:
                        found.append((created, str(tweet.id)))
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise twitter_error(exc, "publisher") from exc
        return [Posted(tid, f"https://x.com/{username}/status/{tid}") for _, tid in sorted(found)]
