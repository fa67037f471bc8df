import json
from datetime import UTC, datetime

from schemas import Author, Mention
from sentiment.scoring import RawMessage, parse_mentions


def _raw(value: bytes | None, offset: int) -> RawMessage:
    return RawMessage(value=value, topic="mentions.raw.v1", partition=0, offset=offset, key=b"k")


def test_malformed_messages_become_dead_letters_with_the_original_bytes() -> None:
    good = Mention(
        source="twitter",
        external_id="1",
        thread_key="twitter:1",
        author=Author(id="u"),
        text="hello",
        created_at=datetime.now(UTC),
    )
    messages = [
        _raw(good.to_bytes(), 0),
        _raw(b"\xff\xfe not utf8", 1),
        _raw(None, 2),
        _raw(json.dumps({"text": "only text"}).encode(), 3),
    ]
    mentions, outcome = parse_mentions(messages)
    assert mentions == [good]
    assert [d.offset for d in outcome.dead] == [1, 2, 3]
    assert outcome.dead[1].error == "empty message"
    assert "source: Field required" in outcome.dead[2].error
    assert outcome.dead[2].payload == '{"text": "only text"}'
    assert all(d.stage == "validate" and d.key == "k" for d in outcome.dead)
