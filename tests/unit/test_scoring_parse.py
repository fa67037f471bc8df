import json
from datetime import UTC, datetime

from schemas import Author, Mention
from sentiment.scoring import RawMessage, parse_mentions, split_refused
from tests.factories import scored_mention


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


def test_a_mention_the_database_refuses_is_dead_lettered_as_the_message_it_came_from() -> None:
    at = datetime.now(UTC)
    mentions = [
        Mention(
            source="vk",
            external_id=f"m{i}",
            thread_key=f"vk:t{i}",
            author=Author(id="u"),
            text=f"текст {i}",
            created_at=at,
        )
        for i in range(3)
    ]
    messages = [
        RawMessage(value=m.to_bytes(), topic="mentions.raw.v1", partition=i, offset=10 + i, key=m.key)
        for i, m in enumerate(mentions)
    ]
    parsed, outcome = parse_mentions([messages[0], _raw(b"{broken", 99), messages[1], messages[2]])
    assert outcome.origins == messages  # each parsed mention's own message, the broken one left out
    outcome.scored = [scored_mention(m.external_id, text=m.text) for m in parsed]

    stored, dead = split_refused(outcome, [(outcome.scored[1], "database refused the mention: too big")])

    assert [(s.mention.external_id, s.partition) for s in stored] == [("m0", 0), ("m2", 2)]
    assert len(dead) == 1
    letter = dead[0]
    assert (letter.stage, letter.offset, letter.partition) == ("persist", 11, 1)
    assert letter.payload == mentions[1].to_bytes().decode() and letter.error.endswith("too big")
