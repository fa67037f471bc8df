"""The alert as chat receivers read it: Slack/Telegram `text`, the full alert, a stable id."""

from __future__ import annotations

from datetime import UTC, datetime

from core.notify.alerts import webhook_payload
from schemas import Alert, AlertExample

START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def _alert(**extra: object) -> Alert:
    fields: dict[str, object] = dict(
        brand="acme", source="vk", topic="refund", window_start=START,
        window_end=datetime(2026, 1, 5, 10, 15, tzinfo=UTC), negative_count=9, total_count=12,
        negative_share=0.75, baseline_share=0.2, score=4.5, top_terms=("refund", "scam"),
        examples=(AlertExample(mention_id="vk:1", negativity=0.97, text="refund never came"),),
    )  # fmt: skip
    fields.update(extra)
    return Alert(**fields)


def test_payload_has_text_chat_id_and_alert() -> None:
    payload = webhook_payload(_alert(), chat_id="-100123")
    assert payload["chat_id"] == "-100123"
    assert payload["text"].startswith("Negativity spike: acme / vk / refund: 9 of 12 negative (75%")
    assert "refund never came" in payload["text"] and "Top terms: refund, scam" in payload["text"]
    assert payload["alert"]["negative_count"] == 9
    assert "chat_id" not in webhook_payload(_alert())


def test_alert_id_is_stable_per_key_and_window() -> None:
    assert _alert().alert_id == _alert(score=9.0).alert_id
    assert _alert().alert_id != _alert(topic=None).alert_id
