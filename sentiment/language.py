"""Fast language guess for routing: "ru", "en" or "other". No model, no network.

The desk only needs to tell Russian and English apart from everything else, so a script count does
most of the work: URLs, @handles, #tags, e-mail addresses, digits and emoji are dropped first, then
the letters are counted by script.
- Mostly Cyrillic: Russian, unless letters Russian does not use appear (Ukrainian і ї є ґ,
  Belarusian ў, Serbian/Macedonian/Kazakh letters...) -> "other".
- Mostly Latin: English, unless the text looks clearly like another Latin-script language:
  diacritics English does not use (ñ ß ğ ş ł ã ...) or more function words of es/de/fr/pt/it/tr/nl/pl
  than of English -> "other".
- Any other script, or no letters at all -> "other".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from schemas.mention import Language

_NOISE = re.compile(
    r"(?:https?://|www\.)\S+"  # URLs
    r"|[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+"  # e-mail addresses (bounded: no quadratic backtracking)
    r"|[@#][\w.]+",  # @handles, #tags
    re.UNICODE,
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)

# Cyrillic letters used by Ukrainian, Belarusian, Serbian, Macedonian, Kazakh etc. but not Russian.
_NON_RUSSIAN_CYRILLIC = frozenset("іїєґўђјљњћџѓќѕәғқңөұүһІЇЄҐЎЂЈЉЊЋЏЃЌЅӘҒҚҢӨҰҮҺ")

# Latin letters English never uses except in a handful of loanwords: one is enough.
_STRONG_DIACRITICS = frozenset("ñßğşıłąęśźżćńřěůőűãõåøæœ")
# Letters seen in English loanwords (café, naïve, façade, über): several of them are needed.
_WEAK_DIACRITICS = frozenset("áàâäçéèêëíìîïóòôöúùûüýÿčšž")

_ENGLISH_WORDS = """the and of to is are was were be been it this that with for you your not have has had
    but what when why how who they them their there then than will would can could should just
    my me we our us he she his her from at by about i im i'm dont don't its it's an or if do does
    did get got very so all out up one time people thanks thank please help still now today"""
_FOREIGN_WORDS = (
    # es
    """el la los las del que en por para con una uno es muy pero como más mas está esta gracias
    hola porque también tambien estoy tengo hay nada ser sin sobre"""
    # de
    """ der das und ist nicht ich ein eine mit auf für fur sich den dem des zu auch nur noch wie
    bitte danke sehr aber oder wir sie kein keine"""
    # fr
    """ le les et est une des pas pour dans sur avec qui mais je tu nous vous très tres merci
    bonjour c'est j'ai ce cette être sont"""
    # pt / it
    """ é não nao um uma com muito obrigado obrigada você voce são estou il della che non per sono
    questo grazie ciao molto"""
    # tr / nl / pl
    """ ve bir bu çok cok için icin değil degil teşekkürler merhaba het een niet ik zijn maar
    voor bedankt dank jest nie się sie że ze dziękuję dziekuje"""
)
_ENGLISH = frozenset(_ENGLISH_WORDS.split())
_FOREIGN = frozenset(_FOREIGN_WORDS.split())


def _script(ch: str) -> str:
    if "\u0400" <= ch <= "\u04ff" or "\u0500" <= ch <= "\u052f":
        return "cyrillic"
    if ch.isascii():
        return "latin"
    name = unicodedata.name(ch, "")
    return "latin" if name.startswith("LATIN") else "other"


@lru_cache(maxsize=4096)
def detect_language(text: str) -> Language:
    """Return "ru", "en" or "other" for one text (see the module docstring for the rules)."""
    cleaned = _NOISE.sub(" ", text)
    counts = {"cyrillic": 0, "latin": 0, "other": 0}
    for ch in cleaned:
        if ch.isalpha():
            counts[_script(ch)] += 1
    total = sum(counts.values())
    if total == 0:
        return "other"
    script = max(counts, key=lambda k: counts[k])
    if script == "other":
        return "other"
    if script == "cyrillic":
        return "other" if any(ch in _NON_RUSSIAN_CYRILLIC for ch in cleaned) else "ru"
    return _latin(cleaned.lower())


def _latin(lowered: str) -> Language:
    strong = sum(ch in _STRONG_DIACRITICS for ch in lowered)
    weak = sum(ch in _WEAK_DIACRITICS for ch in lowered)
    words = _WORD.findall(lowered.replace("’", "'"))
    english = sum(w in _ENGLISH for w in words)
    foreign = sum(w in _FOREIGN for w in words)
    evidence = foreign + 2 * strong + 0.5 * weak
    if strong and english < evidence:
        return "other"
    if evidence >= 2 and evidence > english:
        return "other"
    if foreign and not english and len(words) <= 3:
        return "other"  # "Gracias!", "Danke sehr"
    return "en"
