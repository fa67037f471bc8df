"""Reading a customer's answer to a satisfaction survey (CSAT 1-5, NPS 0-10).

Interface shared by the survey workflow. The reader is conservative: what it cannot read with
confidence is left unread (no score), for an agent to score by hand. It is never guessed.

Reading rules, in order:

1. **Explicit scores** win over words: digits ("5", "5/5", "на 4", "оценка 3", "9 of 10",
   "10 из 10"), grade nouns ("пятёрка"), a number word that is the whole answer ("five", "пять"),
   and stars ("★★★★", "⭐⭐⭐", "4 звезды", "5*"; empty ☆ are not counted).
   - Numbers that are not scores are dropped first: order and ticket numbers ("заказ 123456",
     "№4521", "#123"), any number of 3+ digits, times ("10:30"), dates ("12.11", "12/05",
     "1 декабря"), phone numbers, money ("$50", "1500 рублей"), ordinals ("3-й", "3rd"), a number
     followed by a word that is not a score word ("3 дня", "2 hours", "2 заказа") or preceded by a
     time preposition ("в 3", "после 18", "at 10"), and "24/7"-style fractions.
   - Ranges: two adjacent values ("4-5", "от 4 до 5", "7 или 8", "between 3 and 4") read as the
     lower bound (the conservative end); a wider range ("1-5") is unreadable.
   - A fraction on the other scale: "10/10" on a CSAT survey is 5 and "0/10" or "1/10" is 1, any
     other x/10 is unreadable; "x/5" on an NPS survey maps through the level table below.
   - "csat": one value 1-5 (anything else, or two different values, is unreadable).
     "nps": one value 0-10. "both" (CSAT asked first, then NPS): "5 и 10" → 5 and 10 in order;
     when the order does not fit the ranges but only one assignment does ("10 и 5"), that one; a
     single number 1-5 is the CSAT answer, a single 0 or 6-10 the NPS answer; "x/5" and stars go
     to CSAT, "x/10" to NPS.
2. **Words and emoji** give a level 1-5 when no explicit score is given; several levels within one
   step of each other read as the lower one ("🔥👍" → 4), further apart as unreadable ("👍👎").
   Negation: "не"/"not"/"never"/"n't" (over "очень", "so", "the"...) turns 5 → 3, 4 → 2, 3 → 2,
   2 → 4, 1 → 3 ("не супер" 3, "not good" 2, "не плохо" 4, "not terrible" 3); "не очень" alone
   is 2; "не X, а Y" reads only Y; "не могу сказать, что X" is "не X". "очень"/"very" lifts 4 → 5
   and 2 → 1. Words in a question ("это нормально?") and greetings ("хорошего дня", "have a great
   day", "all the best") are not ratings. Plain thanks ("спасибо", "🙏") and acknowledgements ("ок",
   "ok", "ладно") are no score, and an acknowledgement ("понял", "понятно", "буду знать", "got it")
   takes the verdict out of the words beside it ("хорошо, буду знать" is no score).
   Typos are matched by a/o swap ("харашо") and close spelling ("отлчно", "excelent").

   ====== ============================================================ ===== =====
   level  words and emoji (stems, Russian and English)                  CSAT  NPS
   ====== ============================================================ ===== =====
   5      отлично, супер, великолепно, прекрасно, идеально, класс,     5     9
          круто, на все 100; great, excellent, perfect, awesome,
          amazing, love it, very good; 😍 🤩 🥰 ❤️ 💯 🔥
   4      хорошо, неплохо, доволен; good, nice, happy, not bad;         4     7
          👍 👌 🙂 😊 😀 😃 😄 👏
   3      нормально, норм, так себе, сойдёт, средне, могло быть        3     5
          лучше; fine, meh, so-so, average, could be better; 😐 😑
   2      плохо, не очень, слабо, разочарован; bad, poor,               2     3
          disappointing, not great; 👎 🙁 😕 😞 😒 😔 😢
   1      ужасно, кошмар, отвратительно, хуже некуда, очень плохо;      1     0
          terrible, awful, horrible, worst; 😡 🤬 😠 💩 🤮
   ====== ============================================================ ===== =====

   The NPS side takes the lowest score of the level's NPS class (promoter 9, passive 7) so a word
   never lifts NPS above what a number would have said. On a "both" survey words and emoji answer
   the CSAT question only; recommending ("порекомендую", "would recommend" → NPS 9; "не
   порекомендую", "wouldn't recommend" → NPS 0) answers the NPS question, and is no CSAT score.
3. **Complaint and sarcasm.** `complaint` is set when the message carries a new or still-open
   problem ("не работает", "опять", "снова", "жду", "до сих пор", "так и не", "верните",
   "списали", "сломалось", "где мой заказ", "никто не"; "doesn't work", "still", "again",
   "refund", "charged", "broken", "missing", "where is my", "nobody", "can't", "problem"...),
   except where the words say it is solved ("проблему решили", "снова работает", "без проблем",
   "problem solved", "no problems"). A complaint cancels every praise word and emoji (level 4-5):
   "ну спасибо, отлично, третий день жду" has no score. Explicit scores stand next to a
   complaint ("5, но приложение опять не работает" is CSAT 5 and a complaint). Sarcasm markers
   ("ага", "ну-ну", "ну спасибо", "спасибо за ничего", "как всегда", "yeah right", "thanks for
   nothing", "as usual", "if you like", 🙄 🤡 🙃) cancel every positive reading, explicit ones
   included ("ага, конечно, 5" has no score).
"""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

import Stemmer  # type: ignore[import-not-found]  # PyStemmer ships no type hints

SurveyKind = Literal["csat", "nps", "both"]


@dataclass(frozen=True, slots=True)
class AnswerReading:
    """What an answer says. `csat` is 1-5, `nps` 0-10; None where the answer gives no such score.
    `complaint` is True when the message also carries a new problem (by its words)."""

    csat: int | None = None
    nps: int | None = None
    complaint: bool = False

    @property
    def readable(self) -> bool:
        return self.csat is not None or self.nps is not None


def carries_new_problem(reading: AnswerReading, negative: bool) -> bool:
    """Whether a survey answer reopens its thread, decided by the parser and the negativity model.

    The rule: reopen when the parser found complaint words (a new or still-open problem), whatever
    the score; or when the answer is no readable score and the model labelled it negative (an angry
    message the parser could not place). A readable score alone never reopens, however low ("2",
    "ужасно"): a low score opens a follow-up task instead. An unreadable neutral or positive answer
    ("спасибо") changes nothing and waits for an agent to score it by hand.
    """
    return reading.complaint or (not reading.readable and negative)


# ----------------------------------------------------------------------------- levels and tables

NPS_OF_LEVEL: Final[dict[int, int]] = {5: 9, 4: 7, 3: 5, 2: 3, 1: 0}
_NEGATED: Final[dict[int, int]] = {5: 3, 4: 2, 3: 2, 2: 4, 1: 3}
_INTENSIFIED: Final[dict[int, int]] = {5: 5, 4: 5, 3: 3, 2: 1, 1: 1}

_WORDS: Final[dict[int, tuple[str, ...]]] = {
    5: (
        "отлично",
        "отличный",
        "супер",
        "великолепно",
        "превосходно",
        "шикарно",
        "идеально",
        "замечательно",
        "прекрасно",
        "восхитительно",
        "класс",
        "классно",
        "круто",
        "потрясающе",
        "блестяще",
        "браво",
        "молодец",
        "молодцы",
        "безупречно",
        "лучший",
        "excellent",
        "great",
        "awesome",
        "perfect",
        "amazing",
        "fantastic",
        "outstanding",
        "superb",
        "brilliant",
        "wonderful",
        "super",
        "best",
    ),
    4: ("хорошо", "неплохо", "доволен", "довольна", "good", "nice", "happy", "satisfied", "impressed"),
    3: (
        "нормально",
        "норм",
        "нормуль",
        "нормас",
        "средненько",
        "сойдет",
        "средне",
        "удовлетворительно",
        "терпимо",
        "fine",
        "meh",
        "average",
    ),
    2: (
        "плохо",
        "плоховато",
        "слабо",
        "разочарован",
        "недоволен",
        "недовольна",
        "bad",
        "poor",
        "disappointing",
        "disappointed",
        "dissatisfied",
        "unhappy",
        "mediocre",
    ),
    1: (
        "ужасно",
        "ужас",
        "кошмар",
        "отвратительно",
        "отстой",
        "мерзко",
        "позор",
        "terrible",
        "awful",
        "horrible",
        "worst",
        "disgusting",
        "useless",
        "pathetic",
        "rubbish",
    ),
}
_RECOMMEND: Final = ("порекомендую", "рекомендую", "посоветую", "советую", "recommend")
_FUZZY_MIN_LENGTH: Final = 5
_FUZZY_CUTOFF: Final = 0.85

_PHRASES: Final[tuple[tuple[re.Pattern[str], int], ...]] = tuple(
    (re.compile(p), level)
    for p, level in (
        (r"\bтак себе\b", 3),
        (r"\bне ахти\b", 2),
        (r"\bне (?:очень |особо |сильно )?понравил\w*", 2),
        (r"\bхуже (?:некуда|не бывает)\b", 1),
        (r"\bлучше не бывает\b|\bвыше всяких похвал\b|\bна высоте\b|\bна все 100\b|\bна 100 ?%", 5),
        (r"\b(?:могло|можно было) (?:бы )?быть (?:и )?лучше\b|\bcould (?:have )?be(?:en)? better\b", 3),
        (r"\bso-so\b|\bso so\b", 3),
        (r"\blove(?:d)? it\b|\bgr8\b", 5),
        (r"\bpretty good\b", 4),
        (r"\bnot great\b|\bне фонтан\b", 2),
    )
)
# Greetings and farewells that carry praise words but no rating.
_NOT_A_RATING: Final = re.compile(
    r"\b(?:и вам )?хорошего (?:дня|вечера|утра|выходных|настроения|отдыха)\b|\bвсего (?:хорошего|доброго|"
    r"наилучшего)\b|\bhave a (?:great|good|nice|wonderful|lovely) (?:day|weekend|evening|one|night)\b|"
    r"\bgood (?:morning|afternoon|evening|night|day)\b|\ball the best\b|\bbest (?:regards|wishes)\b"
)
# "хорошо, понял", "ok, got it": an acknowledgement, so its "хорошо"/"good"/"👌" is no verdict.
_ACKNOWLEDGEMENT: Final = re.compile(
    r"\bпонял\w*|\bпонятно\b|\bясно\b|\bбуду знать\b|\bпринято\b|\bgot it\b|\bnoted\b|\bunderstood\b|"
    r"\bwill do\b|\bi see\b"
)
# "не могу сказать, что хорошо" is "не хорошо", and no complaint ("не могу").
_HEDGED_NEGATION: Final = re.compile(
    r"\b(?:не могу сказать|не скажу|нельзя сказать|can'?t say)\s*,?\s*(?:что|that)\b"
)
_CONTRAST: Final = re.compile(r"\b(?:не|not)\s+[^\W\d_]+\s*,?\s+(?:а|but)\s+")
_NEGATORS: Final = frozenset({"не", "ни", "нет", "ничего", "not", "never", "no", "nothing"})
_SKIPPABLE: Final = frozenset(
    {
        "очень",
        "совсем",
        "особо",
        "так",
        "уж",
        "слишком",
        "и",
        "все",
        "прям",
        "сильно",
        "very",
        "so",
        "too",
        "that",
        "really",
        "the",
        "quite",
        "at",
        "all",
        "would",
        "will",
        "definitely",
    }
)
_INTENSIFIERS: Final = frozenset({"очень", "very", "really", "совсем", "крайне", "extremely"})

_EMOJI: Final[dict[str, int]] = {
    **dict.fromkeys("😍🤩🥰❤💖💯🔥", 5),
    **dict.fromkeys("👍👌🙂😊😀😃😄👏☺", 4),
    **dict.fromkeys("😐😑", 3),
    **dict.fromkeys("👎🙁☹😕😞😒😔😢", 2),
    **dict.fromkeys("😡🤬😠💩🤮", 1),
}
_SARCASM: Final = re.compile(
    r"\bага\b|\bну[- ]ну\b|\bну да\b|\bну,? (?:спасибо|супер|отлично|прекрасно|замечательно|класс|"
    r"здорово)|\bспасибо за ничего\b|\bкак (?:всегда|обычно)\b|\bкак не надо\b|\bпросто (?:великолепно|"
    r"супер|замечательно|прекрасно|отлично)\b|\byeah,? right\b|\bthanks for nothing\b|"
    r"\bas (?:usual|always)\b|\bif you (?:like|enjoy|love)\b|\bесли (?:вы )?любите\b|"
    r"\boh,? (?:great|wonderful|perfect|fantastic)\b|\bjust (?:great|perfect|wonderful)\b|[🙄🤡🙃]"
)

# ----------------------------------------------------------------------------- complaints

_SOLVED: Final = re.compile(
    r"\bпроблем\w*\s+(?:(?!не\b)\w+\s+)?(?:решил\w*|решен\w*|устранил\w*|устранен\w*|исправил\w*)|"
    r"\b(?:решил\w*|решен\w*|устранил\w*|исправил\w*)\s+(?:\w+\s+)?проблем\w*|\bбез проблем\w*|"
    r"\b(?:снова|опять)\s+(?:все\s+)?работает|\bжду (?:следующ\w*|с нетерпением|новых|еще заказ\w*)|"
    r"\bс нетерпением жду\b|\bno problems?\b|\bproblem (?:solved|fixed|resolved|sorted)\b|"
    r"\b(?:problem|issue)s? (?:was |were |is |are )?(?:solved|fixed|resolved|sorted)\b|"
    r"\bworks (?:again|now|fine)\b|\bworking again\b|\bnever again\b|"
    r"\b(?:buy|order|shop|come|use|choose|book)\w* (?:\w+ )?again\b"
)
_COMPLAINT: Final = re.compile(
    r"\bне (?:работа\w*|сработа\w*|приш\w*|приход\w*|доставил\w*|доставлен\w*|привез\w*|приехал\w*|"
    r"отвеча\w*|могу|получается|вернули|решен\w*|решил\w*|помогл\w*|помога\w*|исправ\w*|хватает|"
    r"перезвонил\w*|открывается|применяется|начисляется|списывается|обновляется|отображается|"
    r"оформляется|приходит|грузится|загружается|тот|та|те)\b|"
    r"\bтак и не\b|\bдо сих пор\b|\bвсе еще\b|\bопять\b|\bснова\b|\bжд(?:у|ем)\b|\bожидаю\b|"
    r"\b(?:второй|третий|четвертый|пятый|который|энный)\s+(?:день|раз|неделю|час|месяц)\b|"
    r"\bверните\b|\bвернуть\b|\bсломал\w*|\bсломан\w*|\bсписали\b|\bсписа(?:ли|но) дважды\b|"
    r"\bошибк\w*|\bбрак\w*|\bвылета\w*|\bлежит\b|\bгде (?:мой|моя|мои|мое|деньги|заказ|посылка|возврат)\b|"
    r"\bденьги где\b|\bникто не\b|\bиздевает\w*|\bразберитесь\b|\bобман\w*|\bпроблем\w*|"
    r"\bdoesn'?t work\b|\bdoes not work\b|\bdon'?t work\b|\bnot working\b|\bisn'?t working\b|"
    r"\bnothing works\b|"
    r"\bstopped working\b|\bstill\b|\bagain\b|\brefund\w*|\bbroken\b|\bbroke\b|\bbreaking\b|\bcharged\b|"
    r"\bcrash\w*|\berror\w*|\bmissing\b|\bnever (?:arrived|came|got|received)\b|"
    r"\bhasn'?t (?:arrived|come|been)\b|\bwhere(?: is|'s) my\b|\bnobody\b|\bno one\b|\bcan'?t\b|\bcannot\b|"
    r"\bwrong (?:item|order|size|product|parcel|package)\b|\bnot (?:solved|resolved|fixed|sorted)\b|"
    r"\bproblem\w*|\bissues?\b|\bis down\b"
)

# ----------------------------------------------------------------------------- numbers

_NOISE: Final[tuple[re.Pattern[str], ...]] = tuple(
    re.compile(p)
    for p in (
        r"https?://\S+",
        r"\+\d[\d\s()-]{6,}\d",
        r"\b\d{3}[\s-]\d{2,3}[\s-]\d{2,4}(?:[\s-]\d{2,4})?\b",
        r"\b\d{1,2}:\d{2}\b",
        r"\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b",
        r"\b\d{1,2}\.\d{1,2}\b",
        r"\b\d{1,2}/0\d\b",
        r"\b\d{1,2}/(?!(?:5|10)\b)\d{1,2}\b",
        r"\b\d+(?:st|nd|rd|th)\b",
        r"\b\d+-?(?:й|я|е|го|ого|ый|ая|ой|ий|ю)\b",
        r"[№#]\s*\d+",
        r"\b(?:заказ\w*|order|ticket|тикет\w*|код|code|номер\w*|обращени\w*|инн|id|артикул\w*)\s*"
        r"(?:№|#|no\.?)?\s*\d+",
        r"[$€₽£]\s*\d+",
        r"(?<!\d)\d+\s*(?:руб\w*|р\.|₽|\$|€|usd|eur|rub|dollars?|долл\w*|%|процент\w*|percent)",
        r"\b\d,\d\b",  # a decimal comma ("4,5"), not two answers
        r"\d{3,}",
    )
)
_NUMBER_WORDS: Final[dict[str, int]] = {
    "ноль": 0,
    "один": 1,
    "одна": 1,
    "два": 2,
    "две": 2,
    "три": 3,
    "четыре": 4,
    "пять": 5,
    "шесть": 6,
    "семь": 7,
    "восемь": 8,
    "девять": 9,
    "десять": 10,
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_DENOMINATOR: Final = {"five": 5, "ten": 10, "пяти": 5, "десяти": 10}
_WORDED_FRACTION: Final = re.compile(
    r"\b(" + "|".join(_NUMBER_WORDS) + r")\s+(?:out of|of|из)\s+(five|ten|пяти|десяти)\b"
)
_GRADES: Final = re.compile(r"\b(пятерк|пятерочк|четверк|четверочк|троечк|тройк|двойк|десятк)\w*")
_GRADE_VALUE: Final = {
    "пятерк": 5,
    "пятерочк": 5,
    "четверк": 4,
    "четверочк": 4,
    "троечк": 3,
    "тройк": 3,
    "двойк": 2,
    "десятк": 10,
}
_STAR_WORDS: Final = re.compile(
    r"\b(\d{1,2}|одн[ауы]|одну|две|два|три|четыре|пять|one|two|three|four|five)\s*"
    r"(?:звезд\w*|звёзд\w*|stars?)\b(?:\s*(?:из|of|out of)\s*5\b)?|\b(\d{1,2})\s*\*"
)
_STAR_CHARS: Final = re.compile(r"[★⭐🌟]+|(?<![\w*])\*{2,10}(?![\w*])")
_FRACTION: Final = re.compile(r"\b(\d{1,2})\s*(?:/|из\b|of\b|out of\b)\s*(5|10)\b")
_RANGE: Final = re.compile(
    r"\b(?:от|from)\s+(\d{1,2})\s+(?:до|to)\s+(\d{1,2})\b|\bbetween\s+(\d{1,2})\s+and\s+(\d{1,2})\b|"
    r"\b(\d{1,2})\s*(-|или\b|or\b)\s*(\d{1,2})\b"
)
_PLAIN: Final = re.compile(r"(?<![\w$€₽£#№+/-])(\d{1,2})(?![\w/])")
_FOLLOW_OK: Final = frozenset(
    {
        "из",
        "of",
        "out",
        "и",
        "and",
        "или",
        "or",
        "до",
        "to",
        "с",
        "конечно",
        "but",
        "но",
        "а",
        "за",
        "for",
        "because",
        "потому",
        "спасибо",
        "thanks",
        "thank",
        "thx",
        "would",
        "will",
        "points",
        "point",
        "pts",
        "plus",
        "from",
        "балл",
        "балла",
        "баллов",
        "однозначно",
        "definitely",
        "обязательно",
        "as",
        "как",
        "nps",
        "csat",
        "ну",
        "же",
        "всё",
        "все",
    }
)
_PREV_BAD: Final = frozenset(
    {
        "в",
        "во",
        "после",
        "через",
        "к",
        "около",
        "примерно",
        "at",
        "in",
        "after",
        "by",
        "around",
        "since",
        "about",
        "on",
        "until",
        "till",
    }
)
_WORD: Final = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@dataclass(frozen=True, slots=True)
class _Item:
    """One explicit score found: `scale` 5 or 10 when the answer named it, "star", or None."""

    value: int
    scale: int | str | None


class _Unreadable(Exception):
    """The explicit scores found cannot be read as one answer (out of range, conflicting, wide range)."""


# ----------------------------------------------------------------------------- the reader


def read_answer(text: str, kind: SurveyKind) -> AnswerReading:
    """The reading of `text` as an answer to a survey of `kind`; unreadable is never guessed."""
    t = _HEDGED_NEGATION.sub("не", _normalise(text))
    complaint = bool(_COMPLAINT.search(_SOLVED.sub(" ", t)))
    sarcastic = bool(_SARCASM.search(t))
    try:
        items = _explicit_items(t)
        csat, nps = _assign(items, kind)
    except _Unreadable:
        return AnswerReading(complaint=complaint)
    levels, recommends = _word_levels(t)
    if _ACKNOWLEDGEMENT.search(t):
        levels = []
    if sarcastic or complaint:
        levels = [lv for lv in levels if lv <= 3]
        recommends = [lv for lv in recommends if lv <= 3]
    if sarcastic:
        csat = None if csat is not None and csat >= 4 else csat
        nps = None if nps is not None and nps >= 7 else nps
    if items:
        if kind == "both" and csat is not None and nps is None:
            rec = _combine(recommends)
            nps = NPS_OF_LEVEL[rec] if rec is not None else None
        return AnswerReading(csat=csat, nps=nps, complaint=complaint)
    if kind == "csat":
        return AnswerReading(csat=_combine(levels), complaint=complaint)
    if kind == "nps":
        level = _combine(levels + recommends)
        return AnswerReading(nps=NPS_OF_LEVEL[level] if level is not None else None, complaint=complaint)
    rec = _combine(recommends)
    return AnswerReading(
        csat=_combine(levels), nps=NPS_OF_LEVEL[rec] if rec is not None else None, complaint=complaint
    )


def _normalise(text: str) -> str:
    t = text.lower().replace("ё", "е").replace("’", "'").replace("‘", "'").replace("\ufe0f", "")
    t = re.sub(r"[–—−]", "-", t)
    return re.sub(r"([^\W\d_])\1{2,}", r"\1\1", t)


def _combine(levels: list[int]) -> int | None:
    """Levels within one step read as the lower one; further apart they disagree: no reading."""
    if not levels or max(levels) - min(levels) > 1:
        return None
    return min(levels)


# ----------------------------------------------------------------------------- explicit scores


def _explicit_items(t: str) -> list[_Item]:
    t = _WORDED_FRACTION.sub(lambda m: f"{_NUMBER_WORDS[m.group(1)]} из {_DENOMINATOR[m.group(2)]}", t)
    for pattern in _NOISE:
        t = pattern.sub(" ~ ", t)
    items: list[tuple[int, _Item]] = []

    def take(match: re.Match[str], item: _Item | None) -> str:
        if item is not None:
            items.append((match.start(), item))
        return " " * (match.end() - match.start())

    t = _STAR_WORDS.sub(lambda m: take(m, _Item(_star_count(m.group(1) or m.group(2)), "star")), t)
    t = _STAR_CHARS.sub(lambda m: take(m, _Item(len(m.group().replace("☆", "")), "star")), t)
    t = _FRACTION.sub(lambda m: take(m, _Item(int(m.group(1)), int(m.group(2)))), t)
    t = _GRADES.sub(lambda m: take(m, _Item(_GRADE_VALUE[m.group(1)], None)), t)
    t = _RANGE.sub(lambda m: _take_range(m, items), t)
    for match in _PLAIN.finditer(t):
        if _score_context(t, match):
            items.append((match.start(), _Item(int(match.group(1)), None)))
    if not items:
        bare = re.sub(r"[^\w]+", " ", t).split()
        bare = [w for w in bare if w not in {"спасибо", "thanks", "thank", "you", "a", "на", "оценка"}]
        if len(bare) == 1 and bare[0] in _NUMBER_WORDS:
            items.append((0, _Item(_NUMBER_WORDS[bare[0]], None)))
    return [item for _, item in sorted(items, key=lambda pair: pair[0])]


def _star_count(word: str) -> int:
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word, 1)


def _take_range(match: re.Match[str], items: list[tuple[int, _Item]]) -> str:
    groups = match.groups()
    low, high = (
        (groups[0], groups[1])
        if groups[0]
        else (groups[2], groups[3])
        if groups[2]
        else (groups[4], groups[6])
    )
    a, b = int(low), int(high)
    if b == a + 1:
        items.append((match.start(), _Item(a, None)))
    elif groups[5] == "-":
        # "5-10" on a both survey is the two answers; on a single scale it is a wide range.
        items.append((match.start(), _Item(a, "pair")))
        items.append((match.start() + 1, _Item(b, "pair")))
    else:
        raise _Unreadable
    return " " * (match.end() - match.start())


def _score_context(t: str, match: re.Match[str]) -> bool:
    """A bare number is a score unless a non-score word follows it or a time preposition precedes it."""
    after = t[match.end() :].lstrip()
    following = _WORD.match(after)
    if following and following.group() not in _FOLLOW_OK:
        return False
    before = _WORD.findall(t[max(0, match.start() - 40) : match.start()])
    return not (before and before[-1] in _PREV_BAD)


def _assign(items: list[_Item], kind: SurveyKind) -> tuple[int | None, int | None]:
    if not items:
        return None, None
    if kind == "csat":
        return _single({_as_csat(i) for i in items}), None
    if kind == "nps":
        return None, _single({_as_nps(i) for i in items})
    csat_values: set[int] = set()
    nps_values: set[int] = set()
    plain: list[int] = []
    for item in items:
        if item.scale == 5 or (item.scale == "star" and item.value <= 5):
            csat_values.add(_as_csat(item))
        elif item.scale in (10, "star"):
            nps_values.add(_as_nps(item))
        else:
            plain.append(item.value)
    if len(plain) > 2:
        raise _Unreadable
    if len(plain) == 2:
        a, b = plain
        if 1 <= a <= 5 and 0 <= b <= 10:
            csat_values.add(a)
            nps_values.add(b)
        elif 1 <= b <= 5 and 0 <= a <= 10:
            csat_values.add(b)
            nps_values.add(a)
        else:
            raise _Unreadable
    elif plain:
        value = plain[0]
        if 1 <= value <= 5 and not csat_values:
            csat_values.add(value)
        elif 0 <= value <= 10 and not nps_values:
            nps_values.add(value)
        else:
            raise _Unreadable
    return (_single(csat_values) if csat_values else None), (_single(nps_values) if nps_values else None)


def _single(values: set[int]) -> int:
    if len(values) != 1:
        raise _Unreadable
    return next(iter(values))


def _as_csat(item: _Item) -> int:
    if item.scale == "pair":
        raise _Unreadable
    if item.scale == 10:
        if item.value == 10:
            return 5
        if item.value <= 1:
            return 1
        raise _Unreadable
    if not 1 <= item.value <= 5:
        raise _Unreadable
    return item.value


def _as_nps(item: _Item) -> int:
    if item.scale == "pair":
        raise _Unreadable
    if item.scale == 5 or (item.scale == "star" and item.value <= 5):
        if not 0 <= item.value <= 5:
            raise _Unreadable
        return NPS_OF_LEVEL.get(item.value, 0)
    if not 0 <= item.value <= 10:
        raise _Unreadable
    return item.value


# ----------------------------------------------------------------------------- words and emoji


def _word_levels(t: str) -> tuple[list[int], list[int]]:
    """The levels (1-5) of the praise/blame words and emoji, and of recommending, outside questions."""
    t = _NOT_A_RATING.sub(" ", t)
    t = _CONTRAST.sub(" ", t)
    levels: list[int] = []
    recommends: list[int] = []
    for raw_sentence in re.split(r"(?<=[.!?…])\s+|\n+", t):
        if "?" in raw_sentence:
            continue
        sentence = raw_sentence
        for pattern, level in _PHRASES:
            hits = pattern.findall(sentence)
            if hits:
                levels.extend([level] * len(hits))
                sentence = pattern.sub(" ; ", sentence)
        levels.extend(_EMOJI[ch] for ch in sentence if ch in _EMOJI)
        tokens = _WORD.findall(sentence)
        for index, token in enumerate(tokens):
            negated = _negated(tokens, index)
            if token in {"очень", "very"} and negated and not _has_level(tokens, index + 1):
                levels.append(2)  # "не очень" on its own
                continue
            if _is_recommend(token):
                recommends.append(1 if negated else 5)
                continue
            found = _level_of(token)
            if found is None:
                continue
            if negated:
                found = _NEGATED[found]
            elif index > 0 and tokens[index - 1] in _INTENSIFIERS:
                found = _INTENSIFIED[found]
            levels.append(found)
    return levels, recommends


def _negated(tokens: list[str], index: int) -> bool:
    j = index - 1
    while j >= 0 and tokens[j] in _SKIPPABLE and index - j <= 3:
        j -= 1
    return j >= 0 and (tokens[j] in _NEGATORS or tokens[j].endswith("n't"))


def _has_level(tokens: list[str], index: int) -> bool:
    return index < len(tokens) and (_level_of(tokens[index]) is not None or _is_recommend(tokens[index]))


def _is_recommend(token: str) -> bool:
    return _stem(token) in _RECOMMEND_STEMS


@lru_cache(maxsize=4096)
def _level_of(token: str) -> int | None:
    for variant in (token, token.replace("а", "о")):
        level = _STEM_LEVEL.get(_stem(variant))
        if level is not None:
            return level
    if len(token) >= _FUZZY_MIN_LENGTH:
        close = difflib.get_close_matches(token, _FUZZY_WORDS, n=1, cutoff=_FUZZY_CUTOFF)
        if close:
            return _SURFACE_LEVEL[close[0]]
    return None


_local = threading.local()  # Stemmer objects are not thread-safe: one pair per thread


def _stem(token: str) -> str:
    """The Snowball stem: Russian for a Cyrillic word, English otherwise."""
    pair: tuple[Stemmer.Stemmer, Stemmer.Stemmer] | None = getattr(_local, "stemmers", None)
    if pair is None:
        pair = (Stemmer.Stemmer("russian"), Stemmer.Stemmer("english"))
        _local.stemmers = pair
    russian, english = pair
    cyrillic = any("а" <= ch <= "я" for ch in token)
    return str((russian if cyrillic else english).stemWord(token))


_SURFACE_LEVEL: Final[dict[str, int]] = {word: level for level, words in _WORDS.items() for word in words}
_STEM_LEVEL: Final[dict[str, int]] = {_stem(word): level for word, level in _SURFACE_LEVEL.items()}
_RECOMMEND_STEMS: Final = frozenset(_stem(word) for word in _RECOMMEND)
_FUZZY_WORDS: Final = [word for word in _SURFACE_LEVEL if len(word) >= _FUZZY_MIN_LENGTH]
