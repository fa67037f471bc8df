"""The words and queries of full-text search: stems of Russian and English forms, the query syntax,
and input that must never break the parser."""

from __future__ import annotations

import pytest

from core.search_text import MAX_QUERY_TERMS, Term, parse_query, stem, stem_text, words


@pytest.mark.parametrize(
    ("forms", "language"),
    [
        (("доставка", "доставку", "доставки", "доставкой", "ДОСТАВКЕ"), "ru"),
        (("курьер", "курьера", "курьеру", "курьером"), "ru"),
        (("ёлка", "елки", "Ёлку"), "ru"),
        (("delivery", "deliveries", "Delivery"), "en"),
        (("refund", "refunds", "refunded", "refunding"), "en"),
    ],
)
def test_word_forms_share_one_stem(forms: tuple[str, ...], language: str) -> None:
    stems = {stem_text(form) for form in forms}
    assert len(stems) == 1, (language, stems)


def test_words_split_on_signs_and_keep_digits() -> None:
    assert words("Заказ №12345 не пришёл!!! 🙁 snake_case") == [
        "заказ",
        "12345",
        "не",
        "пришел",
        "snake",
        "case",
    ]
    assert stem("12345") == "12345"


def test_plain_words_are_all_required() -> None:
    parsed = parse_query("доставку курьер")
    assert parsed.groups == ((Term(("доставку",)), Term(("курьер",))),)
    assert parsed.fts5() == '("доставк" AND "курьер")'
    assert parsed.websearch() == "доставку курьер"


def test_phrases_alternatives_and_exclusions() -> None:
    parsed = parse_query('"late delivery" or refund -promo')
    assert parsed.groups == (
        (Term(("late", "delivery")),),
        (Term(("refund",)), Term(("promo",), exclude=True)),
    )
    assert parsed.fts5() == '("late deliveri") OR ("refund" NOT "promo")'
    assert parsed.websearch() == '"late delivery" or refund -promo'


@pytest.mark.parametrize(
    "query",
    ["", "   ", "🙂🙂", '""', "()&|!:*", "-доставка", "or", "OR or", "- - -", "\x00\x1f"],
)
def test_queries_with_nothing_to_find_are_empty(query: str) -> None:
    parsed = parse_query(query)
    assert parsed.empty
    assert parsed.fts5() == "" and parsed.websearch() == ""


@pytest.mark.parametrize(
    "query",
    [
        '"unterminated доставка',
        'доставка" OR "',
        "NEAR(a b) AND NOT c*",
        "col:value ^start",
        "доставка🙂курьер",
        "' OR 1=1 --",
        "x" * 10_000,
        "слово " * 2_000,
    ],
)
def test_odd_queries_parse_to_quoted_words(query: str) -> None:
    parsed = parse_query(query)
    assert not parsed.empty
    terms = [term for group in parsed.groups for term in group]
    assert sum(len(term.words) for term in terms) <= MAX_QUERY_TERMS
    for term in terms:
        assert all(word.isalnum() for word in term.words)
    # every FTS5 operand is a quoted run of letters and digits: nothing of the input is syntax
    for token in parsed.fts5().replace("(", " ").replace(")", " ").split('"')[1::2]:
        assert all(part.isalnum() for part in token.split())


def test_the_word_or_in_quotes_is_a_word() -> None:
    parsed = parse_query('"or" gate')
    assert parsed.groups == ((Term(("or",)), Term(("gate",))),)
    assert parsed.websearch() == '"or" gate'


def test_long_made_up_words_are_stemmed_but_not_remembered() -> None:
    """Stems of ordinary words are remembered; a stream of long unique words cannot fill memory."""
    from core import search_text

    kept = search_text._remembered_stem.cache_info().currsize
    long_words = [f"абракадабра{i:05d}" + "ы" * search_text.REMEMBERED_WORD_CHARS for i in range(100)]
    assert all(search_text.stem(word).startswith("абракадабра") for word in long_words)
    assert search_text._remembered_stem.cache_info().currsize == kept
    assert search_text.stem("сервисами") == search_text.stem("сервис")
    assert search_text._remembered_stem.cache_info().currsize > kept
