"""Words for full-text search: one tokenizer and stemmer for stored texts and for queries.

Russian and English words are reduced to their Snowball stems (PyStemmer), so "доставку" and
"доставка" meet at "доставк" and "deliveries" and "delivery" at "deliveri". The same Snowball
algorithms are behind PostgreSQL's `russian` text search configuration (Cyrillic words with the
Russian stemmer, Latin ones with the English one), so SQLite (FTS5 over `stem_text`) and PostgreSQL
(`to_tsvector('russian', text)`) find the same forms.

A query is parsed the way PostgreSQL's `websearch_to_tsquery` reads one: words are all required,
`"two words"` is a phrase, `or` between words offers alternatives, `-word` excludes. Anything else
(operators, brackets, emoji, quotes left open) is only a separator, so no input can fail to parse.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from typing import Final

import Stemmer  # type: ignore[import-not-found]  # PyStemmer ships no type hints

MAX_QUERY_TERMS: Final = 32
"""Words of a query past this many are ignored (a 10,000-character paste still searches)."""

# letters and digits; `_` and everything else separate words (as SQLite's unicode61 and PG's parser)
_WORD: Final = re.compile(r"[^\W_]+")
_CYRILLIC: Final = re.compile(r"[а-я]")
_LATIN: Final = re.compile(r"[a-z]")
_QUERY_TOKEN: Final = re.compile(r'"([^"]*)"?|(-?)([^\s"]+)')

_local = threading.local()  # Stemmer objects are not thread-safe: one pair per thread


def _stemmers() -> tuple[Stemmer.Stemmer, Stemmer.Stemmer]:
    pair: tuple[Stemmer.Stemmer, Stemmer.Stemmer] | None = getattr(_local, "stemmers", None)
    if pair is None:
        pair = (Stemmer.Stemmer("russian"), Stemmer.Stemmer("english"))
        _local.stemmers = pair
    return pair


def words(text: str) -> list[str]:
    """The words of a text, lower-cased, ё read as е."""
    return _WORD.findall(text.lower().replace("ё", "е"))


REMEMBERED_WORD_CHARS = 40
"""Stems of words up to this long are remembered (the worker stems every stored mention's words,
and most words come again); longer ones, rare in language but cheap to send, are not kept, so a
stream of long made-up words cannot fill the memory."""


def stem(word: str) -> str:
    """The stem of one word from `words`: Russian for Cyrillic, English for Latin, else as is."""
    return _remembered_stem(word) if len(word) <= REMEMBERED_WORD_CHARS else _stem(word)


def _stem(word: str) -> str:
    russian, english = _stemmers()
    if _CYRILLIC.search(word):
        return str(russian.stemWord(word))
    if _LATIN.search(word):
        return str(english.stemWord(word))
    return word


_remembered_stem = functools.lru_cache(maxsize=65_536)(_stem)


def stem_text(text: str) -> str:
    """The stems of a text's words separated by spaces: what the SQLite index stores."""
    return " ".join(stem(word) for word in words(text))


@dataclass(frozen=True, slots=True)
class Term:
    """A required word or phrase (`words` has several), or an excluded one."""

    words: tuple[str, ...]
    exclude: bool = False


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """Alternatives (OR) of groups of terms that must all hold (AND)."""

    groups: tuple[tuple[Term, ...], ...]

    @property
    def empty(self) -> bool:
        """Nothing a search can look for: no word, or only exclusions."""
        return not self.groups

    def websearch(self) -> str:
        """The query again in `websearch_to_tsquery` syntax, from clean words only."""
        return " or ".join(" ".join(_websearch_term(term) for term in group) for group in self.groups)

    def fts5(self) -> str:
        """The query as an SQLite FTS5 expression over stemmed text (every word quoted)."""
        alternatives = []
        for group in self.groups:
            required = " AND ".join(_fts5_term(term) for term in group if not term.exclude)
            excluded = "".join(f" NOT {_fts5_term(term)}" for term in group if term.exclude)
            alternatives.append(f"({required}{excluded})")
        return " OR ".join(alternatives)


def _websearch_term(term: Term) -> str:
    text = " ".join(term.words)
    if len(term.words) > 1 or text == "or":
        text = f'"{text}"'  # a phrase; and the word "or" itself, not the operator
    return f"-{text}" if term.exclude else text


def _fts5_term(term: Term) -> str:
    # stems are letters and digits only, so the quotes cannot be broken out of
    return '"' + " ".join(stem(word) for word in term.words) + '"'


def parse_query(query: str, max_terms: int = MAX_QUERY_TERMS) -> ParsedQuery:
    """Read a user's query (see the module's doc); never raises."""
    groups: list[list[Term]] = [[]]
    budget = max_terms
    for match in _QUERY_TOKEN.finditer(query):
        if budget <= 0:
            break
        phrase, minus, bare = match.groups()
        if phrase is None and bare.lower() == "or":
            if groups[-1]:
                groups.append([])
            continue
        found = words(phrase if phrase is not None else bare)[:budget]
        if not found:
            continue
        budget -= len(found)
        exclude = bool(minus)
        if phrase is None and len(found) > 1:
            # "a+b", "a/b": separate words, each required (or excluded) on its own
            groups[-1].extend(Term((word,), exclude) for word in found)
        else:
            groups[-1].append(Term(tuple(found), exclude))
    kept = tuple(tuple(group) for group in groups if any(not term.exclude for term in group))
    return ParsedQuery(kept)
