"""The satisfaction survey's question, templated per kind and language: short, polite, and saying
how to answer, so most answers are a plain number the parser reads (desk.services.survey_answers).

Russian for Russian threads and for threads whose language is unknown (the desk's customers are
mostly Russian-speaking), English for every other language. Each text fits one X reply.
"""

from __future__ import annotations

from typing import Final, Literal

Kind = Literal["csat", "nps", "both"]

QUESTIONS: Final[dict[tuple[str, str], str]] = {
    ("ru", "csat"): (
        "Спасибо, что написали нам! Оцените, пожалуйста, как мы решили ваш вопрос: "
        "от 1 до 5 (5 — отлично). Достаточно ответить одной цифрой."
    ),
    ("ru", "nps"): (
        "Спасибо, что написали нам! Насколько вероятно, что вы порекомендуете нас друзьям: "
        "от 0 до 10? Достаточно ответить одним числом."
    ),
    ("ru", "both"): (
        "Спасибо, что написали нам! Оцените, пожалуйста, как мы решили ваш вопрос (от 1 до 5) "
        "и насколько вероятно, что вы порекомендуете нас друзьям (от 0 до 10). Например: «5 и 10»."
    ),
    ("en", "csat"): (
        "Thank you for reaching out! How well did we solve your issue, from 1 to 5 (5 = excellent)? "
        "Just reply with a number."
    ),
    ("en", "nps"): (
        "Thank you for reaching out! How likely are you to recommend us to a friend, from 0 to 10? "
        "Just reply with a number."
    ),
    ("en", "both"): (
        "Thank you for reaching out! How well did we solve your issue (1 to 5), and how likely are "
        "you to recommend us to a friend (0 to 10)? For example: “5 and 10”."
    ),
}


def question_lang(thread_lang: str | None) -> str:
    """The language the question is asked in: "ru" for Russian or unknown, "en" otherwise."""
    if thread_lang is None or thread_lang.lower().startswith("ru") or thread_lang in ("", "und"):
        return "ru"
    return "en"


def question_text(kind: Kind, lang: str) -> str:
    """The question of a survey of `kind` in `lang` ("ru" or "en")."""
    return QUESTIONS[(lang if lang in ("ru", "en") else "ru", kind)]
