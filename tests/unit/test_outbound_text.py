"""What leaves mentiondesk as text: chat alerts that neither ping nor hide links, secrets masked in
settings, and spreadsheet cells that cannot run formulas."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.notify.alerts import alert_email, slack_escape, webhook_payload
from core.notify.redact import mask_setting, scrub
from desk.services.export import safe_cell
from schemas import Alert, AlertExample

START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
PING = "<!channel> refund now"
DISGUISED = "see <https://evil.example/login|acme.com/verify> & pay"


def _alert(*texts: str) -> Alert:
    return Alert(
        brand="acme", source="vk", topic="refund", window_start=START,
        window_end=datetime(2026, 1, 5, 10, 15, tzinfo=UTC), negative_count=9, total_count=12,
        negative_share=0.75, baseline_share=0.2, score=4.5, top_terms=("<@U123>",),
        examples=tuple(
            AlertExample(mention_id=f"vk:{i}", negativity=0.9, text=t) for i, t in enumerate(texts)
        ),
    )  # fmt: skip


def test_slack_text_neither_pings_nor_shows_a_disguised_link() -> None:
    text = webhook_payload(_alert(PING, DISGUISED))["text"]
    assert "&lt;!channel&gt; refund now" in text
    assert "see &lt;https://evil.example/login|acme.com/verify&gt; &amp; pay" in text
    assert "Top terms: &lt;@U123&gt;" in text
    # Slack reads control sequences only between < and >: none are left
    assert "<" not in text and ">" not in text


def test_slack_escaping_is_exactly_slacks_three_entities() -> None:
    assert slack_escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert slack_escape("&lt;") == "&amp;lt;"  # an entity typed by a customer stays visible as typed


def test_telegram_gets_plain_text_without_parse_mode() -> None:
    payload = webhook_payload(_alert(PING, "*bold* <b>x</b>"), chat_id="-100123")
    assert "parse_mode" not in payload
    assert payload["chat_id"] == "-100123"
    assert "<!channel> refund now" in payload["text"] and "*bold* <b>x</b>" in payload["text"]


def test_email_body_quotes_the_customer_verbatim() -> None:
    message = alert_email(_alert(DISGUISED), ["m@example.test"], "md@example.test")
    assert DISGUISED in message.get_content()


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("database_url", "postgresql+psycopg://md:s3cret@db:5432/md", "postgresql+psycopg://md:***@db:5432/md"),
        ("database_url", "sqlite:///var/md.db", "sqlite:///var/md.db"),
        ("alert_webhook_url", "https://hooks.slack.com/services/T0/B0/XyZsecret", "https://hooks.slack.com/services/***"),
        ("alert_webhook_url", "https://api.telegram.org/bot123456:AAHsecret/sendMessage", "https://api.telegram.org/***"),
        ("alert_webhook_url", "https://example.test/hook?token=abc", "https://example.test/hook/***"),
        ("vk_api_url", "https://user:pw@api.vk.ru/method/", "https://user:***@api.vk.ru/method/"),
        ("twitter_api_url", "https://api.twitter.com", "https://api.twitter.com"),
    ],
)  # fmt: skip
def test_settings_are_shown_with_secrets_masked(name: str, value: str, shown: str) -> None:
    assert mask_setting(name, value) == shown


def test_error_text_loses_the_webhook_token_and_passwords() -> None:
    hook = "https://hooks.slack.com/services/T0/B0/XyZsecret"
    text = scrub(f"POST {hook} failed; db postgresql://md:pw@db/md down", hook)
    assert "XyZsecret" not in text and ":pw@" not in text
    assert "hooks.slack.com/services/***" in text


@pytest.mark.parametrize(
    "value", ['=HYPERLINK("http://evil","x")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
)
def test_formula_cells_get_a_leading_quote(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["refund please", "2026-01-05T10:00:00+00:00", -0.5, 3, None, ""])
def test_other_cells_are_unchanged(value: object) -> None:
    assert safe_cell(value) == value
