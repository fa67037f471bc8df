"""detect_language: script first, then the non-Russian Cyrillic letters and non-English Latin cues."""

from __future__ import annotations

import time

import pytest

from sentiment.language import detect_language


@pytest.mark.parametrize(
    "text",
    [
        "Ужасный сервис, деньги списали дважды!",
        "@mts_support почему опять нет связи??? https://t.co/abc123 #мтс",
        "Netflix опять лагает 😡😡",
        "Спасибо, всё починили за час 👍",
        "ЁЖИК В ТУМАНЕ",
        "Купил iPhone 15 Pro в DNS, доволен",
    ],
)
def test_russian(text: str) -> None:
    assert detect_language(text) == "ru"


@pytest.mark.parametrize(
    "text",
    [
        "@united my bag is lost again, this is the worst airline",
        "Thanks @delta, great flight! https://t.co/xyz #happy",
        "ok",
        "I had a coffee at the café, it was naïve of me to expect more",
        "WHY IS MY ORDER STILL NOT HERE",
        "Что за бред @user I can't believe this happened to my account today",
    ],
)
def test_english(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "Дякую за допомогу, все працює",  # Ukrainian: є
        "Їжак і ґанок",  # Ukrainian: ї, і, ґ
        "Дзякуй, усё добра ўчора",  # Belarusian: ў
        "El servicio es pésimo, no funciona nada",  # Spanish
        "Gracias!",
        "Der Service ist wirklich schlecht und langsam",  # German
        "Straße gesperrt",  # ß
        "Le service est nul, je suis très déçu",  # French
        "O atendimento é péssimo, não resolveram",  # Portuguese
        "Hizmet çok kötü, teşekkürler",  # Turkish
        "Obsługa jest fatalna, nie polecam",  # Polish
        "東京は素晴らしい",  # Japanese
        "خدمة سيئة جدا",  # Arabic
        "😀😀👍",
        "12345 !!!",
        "",
        "@someone #tag https://example.com/path",
    ],
)
def test_other(text: str) -> None:
    assert detect_language(text) == "other"


def test_urls_handles_and_tags_do_not_decide_the_script() -> None:
    text = "@verylonglatinhandle_support #LatinHashtagHere https://example.com/some/latin/path ну и где"
    assert detect_language(text) == "ru"


def test_fast() -> None:
    texts = [f"Сообщение номер {i}: всё плохо, верните деньги @bank{i}" for i in range(5000)]
    start = time.perf_counter()
    assert all(detect_language(t) == "ru" for t in texts)
    assert time.perf_counter() - start < 2.0
