"""Helpers for the stream's hostile-input and fault tests: a seeded corpus of valid and hostile raw
messages, what the worker made of them (rows, dead letters), a TCP proxy that can cut PostgreSQL
off, and an exclusive SQLite lock."""

from __future__ import annotations

import json
import random
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import make_url

from core.db.engine import make_engine
from schemas import DeadLetter
from schemas.base import NAME_MAX_LEN, strip_controls
from schemas.topics import MENTIONS_DLQ, MENTIONS_RAW

# ---------------------------------------------------------------- valid mentions

_SUBJECTS = ("Курьер", "Заказ", "Поддержка", "Доставка", "The courier", "My order", "Support", "The app")
_PREDICATES = (
    "опять опоздал на три часа",
    "пришёл вовремя, спасибо",
    "не отвечает уже неделю",
    "работает отлично",
    "is late again, awful service",
    "arrived on time, thanks",
    "keeps crashing on login",
    "was refunded quickly, great job",
)
_NAMES = ("Anna", "Борис", "Mia", "Олег", "Sam", "Зоя")


def sentence(rng: random.Random) -> str:
    """A short real-looking customer post (the model reads it for real)."""
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_PREDICATES)} #{rng.randrange(1000)}"


def payload(
    tag: str,
    text: str,
    *,
    thread_key: str | None = None,
    author_id: str | None = None,
    name: str | None = "Anna",
    created_at: datetime | None = None,
    parent: str | None = None,
) -> dict[str, Any]:
    """A valid raw mention as JSON data (external_id = `tag`)."""
    return {
        "schema_version": 1,
        "source": "twitter",
        "external_id": tag,
        "thread_key": thread_key or tag,
        "parent_external_id": parent,
        "author": {"id": author_id or f"user-{tag}", "name": name, "handle": "handle", "followers": 10},
        "text": text,
        "created_at": (created_at or datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "metrics": {"likes": 1, "reposts": 0, "replies": 0, "views": 7},
    }


# ---------------------------------------------------------------- the corpus


class Expect(Enum):
    STORED = "stored as sent"
    SANITISED = "stored sanitised"
    DEAD = "dead-lettered"
    EITHER = "stored or dead-lettered"


@dataclass(frozen=True, slots=True)
class Case:
    """One raw message: `tag` is its Kafka key and, where it has one, its external_id."""

    tag: str
    kind: str
    value: bytes
    expect: Expect
    text: str | None = None  # the text the row must hold when stored
    name: str | None = None  # the author name the row must hold when stored
    thread_key: str | None = None


HOSTILE_KINDS = (
    "not_json",
    "invalid_utf8",
    "wrong_types",
    "missing_fields",
    "huge_numbers",
    "control_chars",
    "odd_unicode",
    "too_long",
    "bad_dates",
    "huge_text",
    "mutation",
)


def _bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _not_json(rng: random.Random, tag: str) -> Case:
    bodies = [
        f"{{not json {tag}".encode(),
        f"<xml>{tag}</xml>".encode(),
        b"",
        b"null",
        f'["{tag}"]'.encode(),
        f'"{tag}"'.encode(),
        b"{" * rng.randrange(1, 5000),
        bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))),
        _bytes(payload(tag, "ok"))[:-1],
        b"1e999999",
    ]
    return Case(tag, "not_json", rng.choice(bodies), Expect.DEAD)


def _invalid_utf8(rng: random.Random, tag: str) -> Case:
    good = _bytes(payload(tag, "Где мой заказ BAD"))
    bad = rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80\x80"])
    return Case(tag, "invalid_utf8", good.replace(b"BAD", bad), Expect.DEAD)


_WRONG_TYPES: tuple[tuple[tuple[str, ...], Any], ...] = (
    (("text",), 12345),
    (("text",), ["a", "b"]),
    (("external_id",), 987654),
    (("author",), "bob"),
    (("author", "id"), None),
    (("created_at",), True),
    (("created_at",), "yesterday"),
    (("metrics",), [1, 2]),
    (("metrics", "likes"), "many"),
    (("author", "followers"), "lots"),
    (("source",), None),
    (("source",), "myspace"),
    (("rating",), "five"),
    (("schema_version",), 2),
    (("lang",), "klingon"),
)


def _set(data: dict[str, Any], path: Sequence[str], value: Any) -> None:
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _wrong_types(rng: random.Random, tag: str) -> Case:
    data = payload(tag, sentence(rng))
    path, value = rng.choice(_WRONG_TYPES)
    _set(data, path, value)
    return Case(tag, "wrong_types", _bytes(data), Expect.DEAD)


def _missing_fields(rng: random.Random, tag: str) -> Case:
    data = payload(tag, sentence(rng))
    path = rng.choice(
        [
            ("source",),
            ("external_id",),
            ("thread_key",),
            ("author",),
            ("text",),
            ("created_at",),
            ("author", "id"),
        ]
    )
    target = data
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return Case(tag, "missing_fields", _bytes(data), Expect.DEAD)


def _huge_numbers(rng: random.Random, tag: str) -> Case:
    data = payload(tag, sentence(rng))
    value = rng.choice([2**31, 2**40, 2**63, 2**63 + 1, 2**64 + 1, 10**30, -1, -(2**63) - 1])
    path = rng.choice(
        [("metrics", "likes"), ("metrics", "views"), ("metrics", "reposts"), ("author", "followers")]
    )
    _set(data, path, value)
    return Case(tag, "huge_numbers", _bytes(data), Expect.DEAD)


_CONTROLS = "\x00\x01\x07\x08\x0b\x0c\x1b\x1f"


def _sprinkle(rng: random.Random, text: str) -> str:
    out = []
    for char in text:
        if rng.random() < 0.3:
            out.append(rng.choice(_CONTROLS))
        out.append(char)
    return "".join(out) + "\x00"


def _control_chars(rng: random.Random, tag: str) -> Case:
    text = _sprinkle(rng, sentence(rng))
    name = _sprinkle(rng, rng.choice(_NAMES))
    if rng.random() < 0.1:  # nothing left once the controls are removed: refused
        return Case(tag, "control_chars", _bytes(payload(tag, "\x00\x01\x1f")), Expect.DEAD)
    return Case(
        tag,
        "control_chars",
        _bytes(payload(tag, text, name=name)),
        Expect.SANITISED,
        text=str(strip_controls(text)),
        name=str(strip_controls(name)),
    )


_ODD = (
    "\u202eдоставка\u202c ужасная",  # right-to-left override
    "\u200fשלום\u200e courier late",  # RTL/LTR marks
    "cafe\u0301 e\u0308 n\u0303",  # combining marks
    "👩\u200d👩\u200d👧\u200d👦 family order 🏳️\u200d🌈",  # emoji ZWJ sequences
    "Z\u0351\u0357\u0360a\u0358\u0367l\u0352\u035bg\u0346\u0350o\u0489\u0488 courier",  # zalgo
    "\ufeffBOM first, \u2028line sep\u2029para",
    "𝕳𝖊𝖑𝖑𝖔 𝟘𝟙𝟚 \U0010fffd private",
    "\u00a0\u2003spaces\u3000and\u200bzero width",
)


def _odd_unicode(rng: random.Random, tag: str) -> Case:
    if rng.random() < 0.25:  # lone surrogate escapes: not a character, the JSON is refused
        escape = rng.choice(["\\ud800", "\\udfff", "\\ud83d x", "\\ude00\\ud83d"])
        raw = _bytes(payload(tag, "SURR")).replace(b"SURR", f"bad {escape} text".encode())
        return Case(tag, "odd_unicode", raw, Expect.DEAD)
    text = rng.choice(_ODD)
    name = rng.choice(["\u202eanna", "Zo\u0308e", "👩\u200d💻", "\u200f"])
    if rng.random() < 0.3:  # a valid surrogate pair as escapes: one emoji
        raw = _bytes(payload(tag, "PAIR", name=name)).replace(b"PAIR", b"pair \\ud83d\\ude00 ok")
        return Case(tag, "odd_unicode", raw, Expect.STORED, text="pair \U0001f600 ok", name=name)
    return Case(
        tag, "odd_unicode", _bytes(payload(tag, text, name=name)), Expect.STORED, text=text, name=name
    )


def _too_long(rng: random.Random, tag: str) -> Case:
    choice = rng.randrange(5)
    long = rng.randrange(NAME_MAX_LEN + 1, 2000)
    if choice == 0:
        data = payload(tag, sentence(rng))
        data["external_id"] = tag + "e" * long  # refused: cutting could merge two mentions
        return Case(tag, "too_long", _bytes(data), Expect.DEAD)
    if choice == 1:
        data = payload(tag, sentence(rng), thread_key="k" * long)
        return Case(tag, "too_long", _bytes(data), Expect.DEAD)
    if choice == 2:
        data = payload(tag, sentence(rng), author_id="a" * long)
        return Case(tag, "too_long", _bytes(data), Expect.DEAD)
    text = sentence(rng)
    name = rng.choice(["Я", "n", "👩\u200d💻"]) * long
    data = payload(tag, text, name=name)
    data["author"]["handle"] = "h" * long
    return Case(tag, "too_long", _bytes(data), Expect.SANITISED, text=text, name=name[:NAME_MAX_LEN])


def _bad_dates(rng: random.Random, tag: str) -> Case:
    data = payload(tag, sentence(rng))
    future = (datetime.now(UTC) + timedelta(days=rng.randrange(3, 4000))).isoformat()
    data["created_at"] = rng.choice(
        [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "1970-01-01T00:00:00Z",
            future,
            "2005-12-31T23:59:59Z",
            "2024-02-30T00:00:00Z",
            "2024-05-01T12:00:00",
            "10000-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z",
            253402300800,
            -62135596800,
        ]
    )
    return Case(tag, "bad_dates", _bytes(data), Expect.DEAD)


BROKER_MESSAGE_LIMIT = 1_048_576


def _huge_text(rng: random.Random, tag: str, index: int) -> Case:
    """Texts near the broker's 1 MiB limit, and the longest valid ones."""
    room = 1_000_000
    variants: list[tuple[str, Expect]] = [
        ("a" * room, Expect.DEAD),  # 1,000,000 characters: over the 100,000 bound
        ("\\" * (room // 2), Expect.DEAD),  # every character escaped: twice its size in a dead letter
        ("\x01" * (room // 6), Expect.DEAD),  # control escapes: stripped, still over the bound
        ("Ж" * (room // 2), Expect.DEAD),
        ("Курьер опоздал. " * 6250, Expect.STORED),  # exactly 100,000 characters: the longest valid
        ("😡" * 100_000, Expect.STORED),  # 100,000 characters, 400 kB
    ]
    text, expect = variants[index % len(variants)]
    raw = _bytes(payload(tag, text))
    assert len(raw) < BROKER_MESSAGE_LIMIT - 1000, len(raw)
    return Case(tag, "huge_text", raw, expect, text=text if expect is Expect.STORED else None, name="Anna")


def _mutate_bytes(rng: random.Random, raw: bytes, keep: tuple[int, int]) -> bytes:
    """Flip, insert, delete bytes or truncate, anywhere but inside `keep` (the external_id)."""
    data = bytearray(raw)
    start, end = keep
    for _ in range(rng.randrange(1, 4)):
        pos = rng.randrange(len(data))
        if start <= pos <= end:
            continue
        op = rng.randrange(4)
        shift = 0
        if op == 0:
            data[pos] = rng.randrange(256)
        elif op == 1:
            data.insert(pos, rng.choice(b'"{}[],:\\0a\x00\xff'))
            shift = 1
        elif op == 2:
            del data[pos]
            shift = -1
        elif pos > end:
            del data[pos:]
        if pos < start:
            start, end = start + shift, end + shift
    return bytes(data)


_RANDOM_VALUES: tuple[Any, ...] = (
    None,
    "",
    "x",
    0,
    -5,
    1.5,
    float("1e308"),
    True,
    [],
    {},
    {"a": 1},
    "2024-01-01T00:00:00Z",
    2**31 - 1,
    "\x00",
    "review:site",
    "vk",
)


def _mutation(rng: random.Random, tag: str) -> Case:
    text = sentence(rng)
    data = payload(tag, text)
    if rng.random() < 0.5:
        for _ in range(rng.randrange(1, 3)):
            path = rng.choice(
                [
                    ("text",),
                    ("source",),
                    ("thread_key",),
                    ("lang",),
                    ("brand",),
                    ("rating",),
                    ("url",),
                    ("author", "name"),
                    ("author", "is_brand"),
                    ("metrics", "likes"),
                    ("collected_at",),
                    ("extra_field",),
                    ("author", "extra"),
                ]
            )
            _set(data, path, rng.choice(_RANDOM_VALUES))
        raw = _bytes(data)
    else:
        raw = _bytes(data)
        start = raw.index(b'"external_id"')
        raw = _mutate_bytes(rng, raw, (start, start + len(b'"external_id": ""') + len(tag)))
    return Case(tag, "mutation", raw, Expect.EITHER, text=text, name="Anna")


def _hostile(rng: random.Random, tag: str, kind: str, index: int) -> Case:
    makers: dict[str, Callable[[random.Random, str], Case]] = {
        "not_json": _not_json,
        "invalid_utf8": _invalid_utf8,
        "wrong_types": _wrong_types,
        "missing_fields": _missing_fields,
        "huge_numbers": _huge_numbers,
        "control_chars": _control_chars,
        "odd_unicode": _odd_unicode,
        "too_long": _too_long,
        "bad_dates": _bad_dates,
        "mutation": _mutation,
    }
    if kind == "huge_text":
        return _huge_text(rng, tag, index)
    return makers[kind](rng, tag)


def valid_case(rng: random.Random, tag: str, threads: list[str]) -> Case:
    """A valid mention; one in five answers an earlier thread (a second message of that case)."""
    text = sentence(rng)
    number = rng.randrange(300)  # authors recur (their rows are upserted), each with one name
    author, name = f"user-{number}", _NAMES[number % len(_NAMES)]
    if threads and rng.random() < 0.2:
        thread_key = rng.choice(threads)
        data = payload(tag, text, thread_key=thread_key, author_id=author, name=name, parent=thread_key)
    else:
        thread_key = tag
        threads.append(tag)
        data = payload(tag, text, author_id=author, name=name)
    return Case(tag, "valid", _bytes(data), Expect.STORED, text=text, name=name, thread_key=thread_key)


def build_corpus(seed: int, total: int, hostile_share: float, huge_texts: int = 6) -> list[Case]:
    """`total` messages, `hostile_share` of them hostile (classes in turn, `huge_texts` near-1 MiB
    ones among them), in a shuffled order fixed by `seed`."""
    rng = random.Random(seed)
    hostile_total = round(total * hostile_share)
    kinds = [k for k in HOSTILE_KINDS if k != "huge_text"]
    plan = ["huge_text"] * huge_texts + [kinds[i % len(kinds)] for i in range(hostile_total - huge_texts)]
    plan += ["valid"] * (total - len(plan))
    rng.shuffle(plan)
    threads: list[str] = []
    cases: list[Case] = []
    huge_index = 0
    for i, kind in enumerate(plan):
        tag = f"fz-{seed}-{i:05d}"
        if kind == "valid":
            cases.append(valid_case(rng, tag, threads))
        else:
            cases.append(_hostile(rng, tag, kind, huge_index))
            huge_index += kind == "huge_text"
    return cases


def send_cases(bootstrap: str, cases: Sequence[Case], topic: str = MENTIONS_RAW) -> None:
    """Produce every case (key = its tag) and wait for the broker's acknowledgement."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_request_size=BROKER_MESSAGE_LIMIT
    )
    try:
        futures = [producer.send(topic, key=case.tag.encode(), value=case.value) for case in cases]
        producer.flush(120)
        for future in futures:
            future.get(timeout=60)
    finally:
        producer.close(10)


# ---------------------------------------------------------------- what the worker made of it


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    name: str | None
    thread_key: str


def stored_rows(database_url: str) -> dict[str, Row]:
    """Every stored mention by external_id (a second row of one id would be lost here: see
    `mention_counts`)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT m.external_id, m.text, a.name, m.thread_key FROM mentions m "
                "JOIN authors a ON a.id = m.author_id"
            ).all()
    finally:
        engine.dispose()
    return {r[0]: Row(r[1], r[2], r[3]) for r in rows}


def mention_counts(database_url: str) -> tuple[int, int, int]:
    """(rows, distinct external ids, sum of the threads' message counts)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows, distinct = conn.exec_driver_sql(
                "SELECT count(*), count(DISTINCT external_id) FROM mentions"
            ).one()
            counted = conn.exec_driver_sql("SELECT coalesce(sum(message_count), 0) FROM threads").scalar_one()
    finally:
        engine.dispose()
    return int(rows), int(distinct), int(counted)


def unowned_threads(database_url: str, thread_keys: set[str]) -> set[str]:
    """Those of `thread_keys` whose thread has no owner (or no row) yet."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            owned = {
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT thread_key FROM threads WHERE assigned_to IS NOT NULL"
                ).all()
            }
    finally:
        engine.dispose()
    return thread_keys - owned


@dataclass
class DeadLetterReader:
    """Reads `mentions.dlq.v1` from the start, a poll at a time."""

    bootstrap: str
    letters: list[DeadLetter] = field(default_factory=list)
    _consumer: KafkaConsumer | None = None

    def poll(self, timeout_ms: int = 500) -> list[DeadLetter]:
        if self._consumer is None:
            self._consumer = KafkaConsumer(
                MENTIONS_DLQ,
                bootstrap_servers=self.bootstrap,
                group_id=f"dlq-reader-{uuid.uuid4().hex[:6]}",
                auto_offset_reset="earliest",
                session_timeout_ms=6_000,
                heartbeat_interval_ms=2_000,
                fetch_max_bytes=8 * BROKER_MESSAGE_LIMIT,
                max_partition_fetch_bytes=4 * BROKER_MESSAGE_LIMIT,
            )
        new: list[DeadLetter] = []
        for records in self._consumer.poll(timeout_ms=timeout_ms).values():
            new.extend(DeadLetter.model_validate_json(record.value) for record in records)
        self.letters.extend(new)
        return new

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()


def letter_tag(letter: DeadLetter) -> str | None:
    """The case a dead letter is about: the raw message's key (every stage dead-letters the message
    as it was read from the raw topic, a mention the database refused included)."""
    return letter.key


# ---------------------------------------------------------------- database outages


class TcpProxy:
    """A TCP relay to `target` that can be cut: `cut()` drops every open connection and closes each
    new one at once until `restore()`. Threads, so it runs beside a blocking test."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._down = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self.refused = 0
        self._thread = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        self._drop_all()

    def url_for(self, database_url: str) -> str:
        """`database_url` with its host and port replaced by this proxy's."""
        return (
            make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)
        )

    def cut(self) -> None:
        self._down.set()
        self._drop_all()

    def restore(self) -> None:
        self._down.clear()

    def _drop_all(self) -> None:
        with self._lock:
            sockets, self._open = self._open, []
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._down.is_set():
                self.refused += 1
                client.close()
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.extend((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(src, dst), daemon=True).start()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while chunk := src.recv(65536):
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@contextmanager
def sqlite_exclusive_lock(database_url: str) -> Iterator[None]:
    """Hold SQLite's exclusive lock (`BEGIN EXCLUSIVE` on a connection of our own) for the block:
    every other writer gets "database is locked" once its busy timeout runs out."""
    path = make_url(database_url).database
    assert path
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        yield
        conn.execute("COMMIT")
    finally:
        conn.close()


# ---------------------------------------------------------------- steady streams


def valid_payloads(prefix: str, count: int, seed: int = 7) -> list[bytes]:
    """`count` valid mentions (external ids `prefix-00000`...), one in five answering an earlier
    thread, as raw message values."""
    rng = random.Random(seed)
    threads: list[str] = []
    return [valid_case(rng, f"{prefix}-{i:05d}", threads).value for i in range(count)]


class PacedProducer(threading.Thread):
    """Sends `values` to mentions.raw.v1 evenly over `seconds` (key = thread_key), in a thread, so a
    fault can be injected while the stream is running; `error` holds what went wrong, if anything."""

    def __init__(self, bootstrap: str, values: Sequence[bytes], seconds: float) -> None:
        super().__init__(name="paced-producer", daemon=True)
        self._servers = bootstrap
        self._values = values
        self._seconds = seconds
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            producer = KafkaProducer(bootstrap_servers=self._servers, acks="all", linger_ms=5)
            start = time.monotonic()
            futures = []
            for i, value in enumerate(self._values):
                key = json.loads(value)["thread_key"].encode()
                futures.append(producer.send(MENTIONS_RAW, key=key, value=value))
                delay = start + self._seconds * (i + 1) / len(self._values) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            producer.flush(60)
            for future in futures:
                future.get(timeout=60)
            producer.close(10)
        except BaseException as exc:  # reported to the test, which asserts on it
            self.error = exc
