"""Replies on X: create_tweet(in_reply_to_tweet_id=...) from the brand's account (user context).

X has no idempotency key, so after a crash the account's own recent tweets are searched for a
reply to the same tweet with the same text before anything is posted again.
"""

from __future__ import annotations

import requests
import tweepy

from ingest.networks import Posted
from ingest.twitter import twitter_error
from schemas import Reply


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

    def find(self, reply: Reply) -> Posted | None:
        user_id, username = self._account()
        try:
            pages = tweepy.Paginator(
                self.client.get_users_tweets,
                user_id,
                since_id=reply.in_reply_to,
                limit=5,
                tweet_fields=["referenced_tweets"],
                max_results=100,
                user_auth=True,
            )
            for page in pages:
                for tweet in page.data or []:
                    replied = {str(r.id) for r in tweet.referenced_tweets or [] if r.type == "replied_to"}
                    if reply.in_reply_to in replied and tweet.text == reply.text:
                        return Posted(str(tweet.id), f"https://x.com/{username}/status/{tweet.id}")
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise twitter_error(exc, "publisher") from exc
        return None
