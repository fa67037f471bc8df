"""The one list of collector kinds: what the config and the credentials turn on, what stays off and
why, and how several pages of one site become one collector with a cursor per page."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from core.brands import ConfigError, parse_config
from core.settings import Settings
from ingest.base import Collector, CursorUpdate, Page
from ingest.collectors import (
    COLLECTOR_FACTORIES,
    CollectorGroup,
    build_collectors,
    plan_collectors,
    plan_from_settings,
)
from ingest.errors import RateLimited, TransientError
from ingest.http import PoliteClient
from ingest.reviews import IrecommendCollector, OtzovikCollector, RssCollector
from ingest.runner import CollectorRunner

WEB_ONLY: dict[str, Any] = {
    "brands": [
        {
            "name": "acme",
            "reviews": [
                {"site": "otzovik.com", "url": "http://127.0.0.1:8001/reviews/magazin_acme/"},
                {"site": "otzovik.com", "url": "http://127.0.0.1:8001/reviews/magazin_acme_outlet/"},
                {"site": "irecommend.ru", "url": "http://127.0.0.1:8002/content/magazin-acme"},
            ],
            "rss": ["http://127.0.0.1:8003/feeds/acme.xml"],
        },
        {"name": "globex", "queries": ["globex"], "rss": ["http://127.0.0.1:8003/feeds/globex.atom"]},
    ]
}


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def test_the_one_list_names_every_kind() -> None:
    assert [k.name for k in COLLECTOR_FACTORIES] == ["vk", "twitter", "review sites", "rss"]
    assert [k.token_variable for k in COLLECTOR_FACTORIES] == [
        "MD_VK_TOKEN",
        "MD_TWITTER_BEARER_TOKEN",
        None,
        None,
    ]


def test_review_pages_and_feeds_run_without_tokens_and_the_rest_says_why_not() -> None:
    plan = plan_collectors(parse_config(WEB_ONLY), _settings(), Path("brands.toml"))

    assert plan.on
    assert plan.collector_names() == ["review:otzovik.com", "review:irecommend.ru", "rss:127.0.0.1"]
    assert plan.off_reasons(configured_only=True) == [
        "vk: MD_VK_TOKEN is not set (wanted for globex)",
        "twitter: MD_TWITTER_BEARER_TOKEN is not set (wanted for globex)",
    ]
    assert plan.summary() == (
        "review:otzovik.com, review:irecommend.ru, rss:127.0.0.1; off: "
        "vk: MD_VK_TOKEN is not set (wanted for globex); "
        "twitter: MD_TWITTER_BEARER_TOKEN is not set (wanted for globex)"
    )


def test_tokens_turn_vk_and_x_on() -> None:
    settings = _settings(vk_token=SecretStr("vk"), twitter_bearer_token=SecretStr("x"))
    plan = plan_collectors(parse_config(WEB_ONLY), settings)
    assert plan.collector_names()[:2] == ["vk", "twitter"]
    assert plan.off_reasons(configured_only=True) == []
    assert [c.name for c in build_collectors(parse_config(WEB_ONLY), settings)] == [
        "vk",
        "twitter",
        "review:otzovik.com",
        "review:irecommend.ru",
        "rss:127.0.0.1",
    ]


def test_what_is_off_and_why() -> None:
    only_networks = parse_config({"brands": [{"name": "acme", "queries": ["acme"]}]})
    plan = plan_collectors(only_networks, _settings(), Path("b.toml"))
    assert not plan.on
    assert plan.summary() == (
        "vk: MD_VK_TOKEN is not set (wanted for acme); "
        "twitter: MD_TWITTER_BEARER_TOKEN is not set (wanted for acme)"
    )
    assert build_collectors(only_networks, _settings()) == []

    nothing = plan_collectors(parse_config({"brands": [{"name": "acme"}]}), _settings(), Path("b.toml"))
    assert not nothing.on and nothing.summary() == "b.toml lists nothing to collect"
    assert "review sites: the brands config lists no [[brands.reviews]] pages" in nothing.off_reasons()

    no_config, config = plan_from_settings(_settings())
    assert config is None and not no_config.on
    assert no_config.summary() == "no brands config (MD_CONFIG)"


def test_an_unknown_review_site_is_a_config_error_naming_the_file_and_the_sites() -> None:
    config = parse_config(
        {"brands": [{"name": "acme", "reviews": [{"site": "market.example", "url": "https://m/"}]}]}
    )
    with pytest.raises(ConfigError) as caught:
        plan_collectors(config, _settings(), Path("brands.toml"))
    message = str(caught.value)
    assert message.startswith("brands.toml: brand 'acme', reviews[0]: unknown review site 'market.example'")
    assert "irecommend.ru, otzovik.com, rss" in message
    with pytest.raises(ConfigError):
        build_collectors(config, _settings())


def test_a_broken_config_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "brands.toml"
    path.write_text(
        '[[brands]]\nname = "acme"\n[[brands.reviews]]\nsite = "nope.example"\nurl = "https://x/"\n'
    )
    with pytest.raises(ConfigError, match=r"brands\.toml: brand 'acme', reviews\[0\]: unknown review site"):
        plan_from_settings(_settings(config=path))


def test_pages_of_one_site_are_one_collector_with_a_cursor_each_and_one_shared_client() -> None:
    client = PoliteClient()
    collectors = build_collectors(parse_config(WEB_ONLY), _settings(), client=client)
    assert all(isinstance(c, CollectorGroup) for c in collectors)
    otzovik, irecommend, feeds = collectors
    assert isinstance(otzovik, CollectorGroup) and isinstance(feeds, CollectorGroup)
    assert isinstance(irecommend, CollectorGroup)
    members = [*otzovik.members, *irecommend.members, *feeds.members]
    assert [type(m) for m in members] == [
        OtzovikCollector,
        OtzovikCollector,
        IrecommendCollector,
        RssCollector,
        RssCollector,
    ]
    keys = [m.cursor_key for m in members]  # type: ignore[attr-defined]
    assert len(set(keys)) == len(keys)
    assert all(m.client is client for m in members)  # type: ignore[attr-defined]
    assert [m.brand for m in feeds.members] == ["acme", "globex"]  # type: ignore[attr-defined]


def test_a_page_listed_twice_is_read_once() -> None:
    url = "http://127.0.0.1:8001/reviews/magazin_acme/"
    config = parse_config(
        {
            "brands": [
                {"name": "acme", "reviews": [{"site": "otzovik.com", "url": url}]},
                {"name": "globex", "reviews": [{"site": "otzovik.com", "url": url}]},
            ]
        }
    )
    (group,) = build_collectors(config, _settings())
    assert isinstance(group, CollectorGroup) and len(group.members) == 1


class _Fake(Collector):
    def __init__(self, key: str, error: Exception | None = None) -> None:
        self.name = "fake"
        self.key = key
        self.error = error
        self.seen: Mapping[str, str] | None = None

    def fetch(self, cursors: Mapping[str, str]) -> Iterator[Page]:
        self.seen = cursors
        yield Page((), (CursorUpdate(self.key, "v"),))
        if self.error is not None:
            raise self.error


def test_a_group_runs_every_member_and_raises_a_failure_after_the_others() -> None:
    first = _Fake("a", TransientError("review:x", "down"))
    second = _Fake("b")
    group = CollectorGroup("review:x", [first, second])
    pages: list[Page] = []
    with pytest.raises(TransientError):
        pages.extend(group.fetch({"a": "1", "b": "2"}))
    assert [p.cursors[0].key for p in pages] == ["a", "b"]
    assert second.seen == {"a": "1", "b": "2"}


def test_a_rate_limit_ends_the_group_pass_at_once() -> None:
    second = _Fake("b")
    group = CollectorGroup("review:x", [_Fake("a", RateLimited("review:x", "429", 60)), second])
    with pytest.raises(RateLimited):
        list(group.fetch({}))
    assert second.seen is None


def test_the_runner_refuses_two_collectors_of_one_name() -> None:
    with pytest.raises(ValueError, match="unique"):
        CollectorRunner([_Fake("a"), _Fake("b")], sink=None, sessions=None, poll_interval_s=1)  # type: ignore[arg-type]
