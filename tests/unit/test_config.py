"""The brands config: the shipped example loads, YAML works, credentials in the file are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.brands import ConfigError, load_config
from tests.support import PROJECT_ROOT


def test_the_annotated_example_loads() -> None:
    config = load_config(PROJECT_ROOT / "config" / "brands.example.toml")
    acme = config.brand("acme")
    assert acme is not None
    assert acme.vk.communities == (22822305,)
    assert acme.twitter.handles == ("acme", "acme_support")
    assert (acme.reviews[0].site, acme.reviews[0].url) == ("otzovik.com", "https://otzovik.com/reviews/acme/")
    assert acme.rss[0].url.startswith("https://")


def test_yaml_with_plain_rss_urls_and_at_handles(tmp_path: Path) -> None:
    path = tmp_path / "brands.yaml"
    path.write_text(
        "brands:\n  - name: acme\n    queries: [acme]\n    twitter: {handles: ['@Acme']}\n"
        "    rss: ['https://example.com/feed.xml']\n    vk: {communities: [-5]}\n",
        encoding="utf-8",
    )
    brand = load_config(path).brands[0]
    assert brand.twitter.handles == ("Acme",)
    assert brand.rss[0].url == "https://example.com/feed.xml"
    assert brand.vk.communities == (5,)


@pytest.mark.parametrize("line", ['vk_token = "abc"', 'twitter = { bearer_token = "x" }'])
def test_credentials_in_the_file_are_refused_without_echoing_them(tmp_path: Path, line: str) -> None:
    path = tmp_path / "brands.toml"
    path.write_text(f'[[brands]]\nname = "acme"\n{line}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="credentials do not belong") as info:
        load_config(path)
    assert "abc" not in str(info.value) and '"x"' not in str(info.value)


def test_mistakes_name_the_file_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "brands.toml"
    path.write_text('[[brands]]\nname = "acme"\n[[brands.reviews]]\nsite = "otzovik.com"\nurl = "ftp://x"\n')
    with pytest.raises(ConfigError, match=r"(?s)brands\.toml.*reviews\.0\.url"):
        load_config(path)
    path.write_text('[[brands]]\nname = "a"\n[[brands]]\nname = "a"\n')
    with pytest.raises(ConfigError, match="unique"):
        load_config(path)
