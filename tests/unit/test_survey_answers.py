"""The survey answer reader scored on a labelled set of realistic answers (Russian and English).

Each row: text, the survey kind asked, the expected CSAT and NPS reading (None = not given / unreadable),
whether the message carries a new problem, the thread's language, and a category for the accuracy table.
The expectations follow the reading rules in `desk.services.survey_answers` (word and emoji levels,
ranges to their lower bound, one number on a "both" survey by its range, complaint words overriding
praise) as a careful human reader applies them; they were written before the reader was tuned.

Categories: digits (numbers, fractions, ranges, numbers among other numbers), stars, emoji, words,
negation, sarcasm, complaint (a new problem, with or without a score), unreadable (no score to read).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import pytest

from desk.services.survey_answers import AnswerReading, SurveyKind, carries_new_problem, read_answer


class Case(NamedTuple):
    text: str
    kind: SurveyKind
    csat: int | None
    nps: int | None
    complaint: bool
    lang: str
    category: str


_: None = None
F = False
T = True

# fmt: off
_ROWS: list[tuple[str, SurveyKind, int | None, int | None, bool, str, str]] = [
    # ---------------------------------------------------------------- Russian: digits
    ("5", "csat", 5, _, F, "ru", "digits"),
    ("5/5", "csat", 5, _, F, "ru", "digits"),
    ("4", "csat", 4, _, F, "ru", "digits"),
    ("3", "csat", 3, _, F, "ru", "digits"),
    ("2", "csat", 2, _, F, "ru", "digits"),
    ("1", "csat", 1, _, F, "ru", "digits"),
    ("5!", "csat", 5, _, F, "ru", "digits"),
    ("5+", "csat", 5, _, F, "ru", "digits"),
    ("на 4", "csat", 4, _, F, "ru", "digits"),
    ("оценка 3", "csat", 3, _, F, "ru", "digits"),
    ("Оценка: 5", "csat", 5, _, F, "ru", "digits"),
    ("ставлю 5", "csat", 5, _, F, "ru", "digits"),
    ("Поставлю 4, спасибо", "csat", 4, _, F, "ru", "digits"),
    ("4 из 5", "csat", 4, _, F, "ru", "digits"),
    ("5 баллов", "csat", 5, _, F, "ru", "digits"),
    ("Твердая 4", "csat", 4, _, F, "ru", "digits"),
    ("На 5 с плюсом", "csat", 5, _, F, "ru", "digits"),
    ("5, спасибо большое!", "csat", 5, _, F, "ru", "digits"),
    ("Спасибо, 5", "csat", 5, _, F, "ru", "digits"),
    ("5 конечно", "csat", 5, _, F, "ru", "digits"),
    ("4-5", "csat", 4, _, F, "ru", "digits"),
    ("4–5", "csat", 4, _, F, "ru", "digits"),
    ("от 4 до 5", "csat", 4, _, F, "ru", "digits"),
    ("3-4", "csat", 3, _, F, "ru", "digits"),
    ("1-5", "csat", _, _, F, "ru", "unreadable"),
    ("10", "csat", _, _, F, "ru", "unreadable"),
    ("0", "csat", _, _, F, "ru", "unreadable"),
    ("7", "csat", _, _, F, "ru", "unreadable"),
    ("10 из 10", "nps", _, 10, F, "ru", "digits"),
    ("9 из 10", "nps", _, 9, F, "ru", "digits"),
    ("10", "nps", _, 10, F, "ru", "digits"),
    ("8", "nps", _, 8, F, "ru", "digits"),
    ("0", "nps", _, 0, F, "ru", "digits"),
    ("6", "nps", _, 6, F, "ru", "digits"),
    ("5", "nps", _, 5, F, "ru", "digits"),
    ("оценка 7", "nps", _, 7, F, "ru", "digits"),
    ("ставлю 9", "nps", _, 9, F, "ru", "digits"),
    ("На 10 из 10!", "nps", _, 10, F, "ru", "digits"),
    ("9-10", "nps", _, 9, F, "ru", "digits"),
    ("7 или 8", "nps", _, 7, F, "ru", "digits"),
    ("11", "nps", _, _, F, "ru", "unreadable"),
    ("100", "nps", _, _, F, "ru", "unreadable"),
    ("5 и 10", "both", 5, 10, F, "ru", "digits"),
    ("5, 10", "both", 5, 10, F, "ru", "digits"),
    ("4 и 8", "both", 4, 8, F, "ru", "digits"),
    ("3 и 5", "both", 3, 5, F, "ru", "digits"),
    ("Первое 5, второе 9", "both", 5, 9, F, "ru", "digits"),
    ("5", "both", 5, _, F, "ru", "digits"),
    ("10", "both", _, 10, F, "ru", "digits"),
    ("9", "both", _, 9, F, "ru", "digits"),
    ("0", "both", _, 0, F, "ru", "digits"),
    ("5 и 10 из 10", "both", 5, 10, F, "ru", "digits"),
    ("2 и 0", "both", 2, 0, F, "ru", "digits"),
    ("10 из 10", "both", _, 10, F, "ru", "digits"),
    ("5 из 5", "both", 5, _, F, "ru", "digits"),
    ("10 и 5", "both", 5, 10, F, "ru", "digits"),
    # numbers that are not scores, next to a score or alone
    ("Заказ 123456, всё пришло. 5", "csat", 5, _, F, "ru", "digits"),
    ("Курьер приехал в 10:30, как обещали. Ставлю 5", "csat", 5, _, F, "ru", "digits"),
    ("Ждал 3 дня, но в итоге всё решили. 4", "csat", 4, _, F, "ru", "digits"),
    ("Заказ шёл 5 дней, 3", "csat", 3, _, F, "ru", "digits"),
    ("У меня 2 заказа было, оба пришли, 5", "csat", 5, _, F, "ru", "digits"),
    ("в 2023 тоже заказывал, всё норм", "csat", 3, _, F, "ru", "words"),
    ("Оценка 4. Номер обращения 88213", "csat", 4, _, F, "ru", "digits"),
    ("Оценка 10/10", "nps", _, 10, F, "ru", "digits"),
    ("заказ 777 пришел вовремя, 9", "nps", _, 9, F, "ru", "digits"),
    ("заказ №4521", "csat", _, _, F, "ru", "unreadable"),
    ("Мой номер +7 999 123-45-67", "csat", _, _, F, "ru", "unreadable"),
    ("Доставили 12.11, спасибо", "csat", _, _, F, "ru", "unreadable"),
    ("Приеду 15 декабря, тогда и оценю", "csat", _, _, F, "ru", "unreadable"),
    ("В 9 утра позвонили, всё объяснили", "csat", _, _, F, "ru", "unreadable"),
    ("2 часа ждал ответа в чате", "csat", _, _, F, "ru", "unreadable"),
    ("Оплатил 1500 рублей, пришло", "csat", _, _, F, "ru", "unreadable"),
    ("Звоните после 18", "csat", _, _, F, "ru", "unreadable"),
    ("ИНН 7701234567", "nps", _, _, F, "ru", "unreadable"),
    ("Через 2 недели посмотрим", "nps", _, _, F, "ru", "unreadable"),
    ("1 декабря приду ещё", "nps", _, _, F, "ru", "unreadable"),
    ("Через 5 минут отвечу", "csat", _, _, F, "ru", "unreadable"),
    ("В 3 часа приедет курьер?", "csat", _, _, F, "ru", "unreadable"),
    ("Перезвоните мне на 89161234567", "csat", _, _, F, "ru", "unreadable"),
    ("12.12 в 12:00 удобно", "csat", _, _, F, "ru", "unreadable"),
    ("На 2 дня задержали, но ладно", "csat", _, _, F, "ru", "unreadable"),
    # ---------------------------------------------------------------- Russian: stars
    ("★★★★★", "csat", 5, _, F, "ru", "stars"),
    ("★★★★", "csat", 4, _, F, "ru", "stars"),
    ("⭐⭐⭐", "csat", 3, _, F, "ru", "stars"),
    ("⭐️⭐️⭐️⭐️⭐️", "csat", 5, _, F, "ru", "stars"),
    ("★★★☆☆", "csat", 3, _, F, "ru", "stars"),
    ("4 звезды", "csat", 4, _, F, "ru", "stars"),
    ("5 звёзд!", "csat", 5, _, F, "ru", "stars"),
    ("Пять звезд", "csat", 5, _, F, "ru", "stars"),
    ("одна звезда", "csat", 1, _, F, "ru", "stars"),
    ("⭐", "csat", 1, _, F, "ru", "stars"),
    ("⭐⭐⭐⭐⭐ спасибо!", "csat", 5, _, F, "ru", "stars"),
    ("⭐⭐⭐⭐⭐", "nps", _, 9, F, "ru", "stars"),
    ("★★", "both", 2, _, F, "ru", "stars"),
    ("3 звезды из 5", "csat", 3, _, F, "ru", "stars"),
    ("5*", "csat", 5, _, F, "ru", "stars"),
    ("Три звезды, долго", "csat", 3, _, F, "ru", "stars"),
    ("⭐⭐⭐⭐⭐⭐⭐⭐⭐⭐", "nps", _, 10, F, "ru", "stars"),
    # ---------------------------------------------------------------- Russian: emoji
    ("👍", "csat", 4, _, F, "ru", "emoji"),
    ("👍👍👍", "csat", 4, _, F, "ru", "emoji"),
    ("😡", "csat", 1, _, F, "ru", "emoji"),
    ("😊", "csat", 4, _, F, "ru", "emoji"),
    ("🔥", "csat", 5, _, F, "ru", "emoji"),
    ("🔥🔥🔥", "csat", 5, _, F, "ru", "emoji"),
    ("❤️", "csat", 5, _, F, "ru", "emoji"),
    ("😍", "csat", 5, _, F, "ru", "emoji"),
    ("👎", "csat", 2, _, F, "ru", "emoji"),
    ("😐", "csat", 3, _, F, "ru", "emoji"),
    ("🤬🤬", "csat", 1, _, F, "ru", "emoji"),
    ("💩", "csat", 1, _, F, "ru", "emoji"),
    ("🙂", "csat", 4, _, F, "ru", "emoji"),
    ("😡", "nps", _, 0, F, "ru", "emoji"),
    ("👍", "nps", _, 7, F, "ru", "emoji"),
    ("🔥", "nps", _, 9, F, "ru", "emoji"),
    ("😍", "both", 5, _, F, "ru", "emoji"),
    ("Спасибо 😊", "csat", 4, _, F, "ru", "emoji"),
    ("👌", "csat", 4, _, F, "ru", "emoji"),
    ("💯", "csat", 5, _, F, "ru", "emoji"),
    ("😞", "csat", 2, _, F, "ru", "emoji"),
    ("😂", "csat", _, _, F, "ru", "unreadable"),
    ("🙏", "csat", _, _, F, "ru", "unreadable"),
    ("🤷‍♂️", "csat", _, _, F, "ru", "unreadable"),
    ("👍👎", "csat", _, _, F, "ru", "unreadable"),
    ("🤔", "csat", _, _, F, "ru", "unreadable"),
    # ---------------------------------------------------------------- Russian: words
    ("отлично", "csat", 5, _, F, "ru", "words"),
    ("Отлично!", "csat", 5, _, F, "ru", "words"),
    ("ОТЛИЧНО", "csat", 5, _, F, "ru", "words"),
    ("отлично", "nps", _, 9, F, "ru", "words"),
    ("отлично", "both", 5, _, F, "ru", "words"),
    ("хорошо", "csat", 4, _, F, "ru", "words"),
    ("Хорошо, спасибо", "csat", 4, _, F, "ru", "words"),
    ("хорошо", "nps", _, 7, F, "ru", "words"),
    ("очень хорошо", "csat", 5, _, F, "ru", "words"),
    ("так себе", "csat", 3, _, F, "ru", "words"),
    ("так себе", "nps", _, 5, F, "ru", "words"),
    ("Так себе, если честно", "csat", 3, _, F, "ru", "words"),
    ("норм", "csat", 3, _, F, "ru", "words"),
    ("нормально", "csat", 3, _, F, "ru", "words"),
    ("Нормуль", "csat", 3, _, F, "ru", "words"),
    ("сойдёт", "csat", 3, _, F, "ru", "words"),
    ("ужасно", "csat", 1, _, F, "ru", "words"),
    ("Ужасно!!!", "csat", 1, _, F, "ru", "words"),
    ("ужасно", "nps", _, 0, F, "ru", "words"),
    ("плохо", "csat", 2, _, F, "ru", "words"),
    ("очень плохо", "csat", 1, _, F, "ru", "words"),
    ("кошмар", "csat", 1, _, F, "ru", "words"),
    ("отвратительно", "csat", 1, _, F, "ru", "words"),
    ("Супер!", "csat", 5, _, F, "ru", "words"),
    ("супер, спасибо", "csat", 5, _, F, "ru", "words"),
    ("великолепно", "csat", 5, _, F, "ru", "words"),
    ("Всё отлично, спасибо большое!", "csat", 5, _, F, "ru", "words"),
    ("Всё супер, быстро решили", "csat", 5, _, F, "ru", "words"),
    ("Прекрасно", "csat", 5, _, F, "ru", "words"),
    ("Замечательно, спасибо!", "csat", 5, _, F, "ru", "words"),
    ("Класс!", "csat", 5, _, F, "ru", "words"),
    ("круто", "csat", 5, _, F, "ru", "words"),
    ("идеально", "csat", 5, _, F, "ru", "words"),
    ("Средне", "csat", 3, _, F, "ru", "words"),
    ("удовлетворительно", "csat", 3, _, F, "ru", "words"),
    ("хуже некуда", "csat", 1, _, F, "ru", "words"),
    ("отстой", "csat", 1, _, F, "ru", "words"),
    ("Порекомендую друзьям", "nps", _, 9, F, "ru", "words"),
    ("Обязательно порекомендую!", "nps", _, 9, F, "ru", "words"),
    ("отлично, порекомендую", "both", 5, 9, F, "ru", "words"),
    ("Хорошо, но могло быть быстрее", "csat", 4, _, F, "ru", "words"),
    ("Оператор молодец, всё отлично объяснил", "csat", 5, _, F, "ru", "words"),
    ("Вежливо и быстро, отлично", "csat", 5, _, F, "ru", "words"),
    ("на все 100!", "csat", 5, _, F, "ru", "words"),
    ("атлично", "csat", 5, _, F, "ru", "words"),
    ("отлчно", "csat", 5, _, F, "ru", "words"),
    ("харашо", "csat", 4, _, F, "ru", "words"),
    ("ужастно", "csat", 1, _, F, "ru", "words"),
    ("нармально", "csat", 3, _, F, "ru", "words"),
    ("супер пупер", "csat", 5, _, F, "ru", "words"),
    ("отличо", "csat", 5, _, F, "ru", "words"),
    ("Прекрасна", "csat", 5, _, F, "ru", "words"),
    ("могло быть и лучше", "csat", 3, _, F, "ru", "words"),
    ("Мне всё понравилось, курьер приехал вовремя, упаковка целая, товар соответствует описанию. Отлично!",
     "csat", 5, _, F, "ru", "words"),
    ("Здравствуйте! Спасибо, что решили вопрос с доставкой, оператор Анна была очень вежлива и всё "
     "подробно объяснила. Ставлю 5. Хорошего дня!", "csat", 5, _, F, "ru", "digits"),
    ("Честно говоря, так себе: ответили через сутки, но всё же решили. Поставлю 3",
     "csat", 3, _, F, "ru", "digits"),
    # ---------------------------------------------------------------- Russian: negation
    ("не очень", "csat", 2, _, F, "ru", "negation"),
    ("Не очень, честно говоря", "csat", 2, _, F, "ru", "negation"),
    ("не плохо", "csat", 4, _, F, "ru", "negation"),
    ("неплохо", "csat", 4, _, F, "ru", "negation"),
    ("Неплохо, но долго", "csat", 4, _, F, "ru", "negation"),
    ("не очень", "nps", _, 3, F, "ru", "negation"),
    ("не ахти", "csat", 2, _, F, "ru", "negation"),
    ("не понравилось", "csat", 2, _, F, "ru", "negation"),
    ("не хорошо вышло", "csat", 2, _, F, "ru", "negation"),
    ("не ужасно, но и не отлично", "csat", 3, _, F, "ru", "negation"),
    ("Не супер", "csat", 3, _, F, "ru", "negation"),
    ("не идеально, но нормально", "csat", 3, _, F, "ru", "negation"),
    ("Не плохо, а ужасно!", "csat", 1, _, F, "ru", "negation"),
    ("Совсем не понравилось", "csat", 2, _, F, "ru", "negation"),
    ("Ничего хорошего", "csat", 2, _, F, "ru", "negation"),
    ("не порекомендую", "both", _, 0, F, "ru", "negation"),
    ("Не порекомендую", "nps", _, 0, F, "ru", "negation"),
    ("Никому не посоветую", "nps", _, 0, F, "ru", "negation"),
    ("ну не знаю, не очень", "csat", 2, _, F, "ru", "negation"),
    ("неплохо", "nps", _, 7, F, "ru", "negation"),
    ("Не то чтобы плохо, 3", "csat", 3, _, F, "ru", "negation"),
    ("Не отлично, но и не плохо", "csat", 3, _, F, "ru", "negation"),
    # ---------------------------------------------------------------- Russian: sarcasm
    ("ну спасибо, отлично, третий день жду", "csat", _, _, T, "ru", "sarcasm"),
    ("Отлично, теперь вообще ничего не работает", "csat", _, _, T, "ru", "sarcasm"),
    ("Супер, опять списали деньги дважды", "csat", _, _, T, "ru", "sarcasm"),
    ("Ага, конечно, 5", "csat", _, _, F, "ru", "sarcasm"),
    ("Просто великолепно. Заказ так и не пришёл", "csat", _, _, T, "ru", "sarcasm"),
    ("Спасибо, очень помогли 🙄", "csat", _, _, F, "ru", "sarcasm"),
    ("Браво, третий раз пишу одно и то же", "csat", _, _, T, "ru", "sarcasm"),
    ("Отличный сервис 🤡 до сих пор жду ответа", "csat", _, _, T, "ru", "sarcasm"),
    ("Ну прекрасно, опять не работает", "csat", _, _, T, "ru", "sarcasm"),
    ("10 из 10, как всегда всё сломалось", "nps", _, _, T, "ru", "sarcasm"),
    ("Ага, хорошо, а деньги где?", "csat", _, _, T, "ru", "sarcasm"),
    ("Замечательно. Курьер снова не приехал", "csat", _, _, T, "ru", "sarcasm"),
    ("Спасибо за ничего", "csat", _, _, F, "ru", "sarcasm"),
    ("Ну супер, чё. Никто не перезвонил", "csat", _, _, T, "ru", "sarcasm"),
    ("Отлично работаете, деньги так и не вернули", "csat", _, _, T, "ru", "sarcasm"),
    ("Порекомендую всем, как не надо работать", "nps", _, _, F, "ru", "sarcasm"),
    # ---------------------------------------------------------------- Russian: a new problem
    ("5, но приложение опять не работает", "csat", 5, _, T, "ru", "complaint"),
    ("Оценка 4. Но промокод так и не пришёл", "csat", 4, _, T, "ru", "complaint"),
    ("Не работает приложение после обновления", "csat", _, _, T, "ru", "complaint"),
    ("верните деньги", "csat", _, _, T, "ru", "complaint"),
    ("Опять не пришёл заказ", "csat", _, _, T, "ru", "complaint"),
    ("До сих пор жду возврат", "csat", _, _, T, "ru", "complaint"),
    ("ужасно, опять сломалось", "csat", 1, _, T, "ru", "complaint"),
    ("1. Заказ так и не доставили", "csat", 1, _, T, "ru", "complaint"),
    ("Плохо. Деньги списали, а заказа нет", "csat", 2, _, T, "ru", "complaint"),
    ("2, курьер снова опоздал", "csat", 2, _, T, "ru", "complaint"),
    ("Хорошо, но теперь не могу войти в аккаунт", "csat", _, _, T, "ru", "complaint"),
    ("Оператор хороший, но проблема не решена", "csat", _, _, T, "ru", "complaint"),
    ("Третий день жду курьера, это нормально?", "csat", _, _, T, "ru", "complaint"),
    ("Списали деньги дважды, разберитесь", "csat", _, _, T, "ru", "complaint"),
    ("Ошибка при оплате опять", "csat", _, _, T, "ru", "complaint"),
    ("3, а товар пришёл с браком", "csat", 3, _, T, "ru", "complaint"),
    ("Где мой заказ???", "csat", _, _, T, "ru", "complaint"),
    ("Вы издеваетесь? Никто не отвечает", "csat", _, _, T, "ru", "complaint"),
    ("10, но курьер опять не привёз чек", "nps", _, 10, T, "ru", "complaint"),
    ("Порекомендую, но сайт опять лежит", "nps", _, _, T, "ru", "complaint"),
    ("Не работает!!! Сделайте что-нибудь", "nps", _, _, T, "ru", "complaint"),
    ("6. Заказ пришёл не тот", "nps", _, 6, T, "ru", "complaint"),
    ("Жду 3-й день возврат", "csat", _, _, T, "ru", "complaint"),
    ("Код 2024 не сработал", "csat", _, _, T, "ru", "complaint"),
    ("Добрый день. Вопрос с возвратом вы решили, спасибо, но сегодня пришёл новый заказ и в нём не хватает "
     "двух позиций. Пожалуйста, разберитесь. Оценку поставлю потом", "csat", _, _, T, "ru", "complaint"),
    ("Всё хорошо, но хочу сказать, что приложение опять вылетает при оплате, уже второй день не могу "
     "оформить заказ", "csat", _, _, T, "ru", "complaint"),
    ("ПОЧЕМУ СНОВА СПИСАЛИ ДЕНЬГИ?!", "csat", _, _, T, "ru", "complaint"),
    # resolved problems mentioned in passing are not new ones
    ("Долго, но решили. 4", "csat", 4, _, F, "ru", "digits"),
    ("Проблему решили быстро, 5", "csat", 5, _, F, "ru", "digits"),
    ("Всё работает, спасибо! 5", "csat", 5, _, F, "ru", "digits"),
    ("Снова всё работает, отлично", "csat", 5, _, F, "ru", "words"),
    ("Без проблем, 5", "csat", 5, _, F, "ru", "digits"),
    ("Вопрос решён, всё хорошо", "csat", 4, _, F, "ru", "words"),
    # ---------------------------------------------------------------- Russian: unreadable
    ("спасибо", "csat", _, _, F, "ru", "unreadable"),
    ("Спасибо большое!", "csat", _, _, F, "ru", "unreadable"),
    ("Спасибо, всё решили", "csat", _, _, F, "ru", "unreadable"),
    ("ок", "csat", _, _, F, "ru", "unreadable"),
    ("Ок, понял", "csat", _, _, F, "ru", "unreadable"),
    ("что?", "csat", _, _, F, "ru", "unreadable"),
    ("А как оценивать?", "csat", _, _, F, "ru", "unreadable"),
    ("Не буду ничего оценивать", "csat", _, _, F, "ru", "unreadable"),
    ("Отстаньте со своими опросами", "csat", _, _, F, "ru", "unreadable"),
    ("Позовите оператора", "csat", _, _, F, "ru", "unreadable"),
    ("Хорошего дня!", "csat", _, _, F, "ru", "unreadable"),
    ("Всего хорошего", "csat", _, _, F, "ru", "unreadable"),
    ("Спасибо, и вам хорошего вечера", "csat", _, _, F, "ru", "unreadable"),
    ("Кто это?", "csat", _, _, F, "ru", "unreadable"),
    ("Ладно", "csat", _, _, F, "ru", "unreadable"),
    ("Да", "csat", _, _, F, "ru", "unreadable"),
    ("Нет", "csat", _, _, F, "ru", "unreadable"),
    ("Посмотрим", "csat", _, _, F, "ru", "unreadable"),
    ("Пока не знаю, товар ещё не открывал", "csat", _, _, F, "ru", "unreadable"),
    ("Оценю позже", "csat", _, _, F, "ru", "unreadable"),
    ("...", "csat", _, _, F, "ru", "unreadable"),
    ("Зачем вам это?", "csat", _, _, F, "ru", "unreadable"),
    ("А скидку дадите?", "csat", _, _, F, "ru", "unreadable"),
    ("Хм", "csat", _, _, F, "ru", "unreadable"),
    ("Спасибо, жду следующего заказа!", "csat", _, _, F, "ru", "unreadable"),
    ("Спасибо 🙏", "csat", _, _, F, "ru", "unreadable"),
    ("Сложно сказать", "csat", _, _, F, "ru", "unreadable"),
    ("Оценка? Какая оценка?", "csat", _, _, F, "ru", "unreadable"),
    ("Я уже оценил", "csat", _, _, F, "ru", "unreadable"),
    ("Напишите в личку", "csat", _, _, F, "ru", "unreadable"),
    ("А где ввести промокод?", "csat", _, _, F, "ru", "unreadable"),
    ("ок", "nps", _, _, F, "ru", "unreadable"),
    ("спасибо", "nps", _, _, F, "ru", "unreadable"),
    ("Посоветую ли? Не знаю", "nps", _, _, F, "ru", "unreadable"),
    ("Зависит от цены", "nps", _, _, F, "ru", "unreadable"),
    ("Не знаю, 50 на 50", "nps", _, _, F, "ru", "unreadable"),
    ("Друзьям? У меня нет друзей)))", "nps", _, _, F, "ru", "unreadable"),
    ("Спасибо", "both", _, _, F, "ru", "unreadable"),
    ("Оценку дам после получения", "both", _, _, F, "ru", "unreadable"),
    ("А это нормально, что курьер звонит с чужого номера?", "csat", _, _, F, "ru", "unreadable"),
    # ---------------------------------------------------------------- English: digits
    ("I'd give it a 5", "csat", 5, _, F, "en", "digits"),
    ("4 out of 5", "csat", 4, _, F, "en", "digits"),
    ("Rating: 3", "csat", 3, _, F, "en", "digits"),
    ("5, thanks!", "csat", 5, _, F, "en", "digits"),
    ("Solid 4", "csat", 4, _, F, "en", "digits"),
    ("2. Took too long", "csat", 2, _, F, "en", "digits"),
    ("5!!", "csat", 5, _, F, "en", "digits"),
    ("somewhere between 3 and 4", "csat", 3, _, F, "en", "digits"),
    ("3 or 4", "csat", 3, _, F, "en", "digits"),
    ("6/10", "csat", _, _, F, "en", "unreadable"),
    ("10/10", "csat", 5, _, F, "en", "digits"),
    ("9 of 10", "nps", _, 9, F, "en", "digits"),
    ("9 out of 10", "nps", _, 9, F, "en", "digits"),
    ("10/10 would recommend", "nps", _, 10, F, "en", "digits"),
    ("7, could be faster", "nps", _, 7, F, "en", "digits"),
    ("Probably a 6", "nps", _, 6, F, "en", "digits"),
    ("Zero", "nps", _, 0, F, "en", "digits"),
    ("ten", "nps", _, 10, F, "en", "digits"),
    ("a solid 9", "nps", _, 9, F, "en", "digits"),
    ("8-9", "nps", _, 8, F, "en", "digits"),
    ("12", "nps", _, _, F, "en", "unreadable"),
    ("5 and 10", "both", 5, 10, F, "en", "digits"),
    ("4, 9", "both", 4, 9, F, "en", "digits"),
    ("CSAT 5, NPS 10", "both", 5, 10, F, "en", "digits"),
    ("3", "both", 3, _, F, "en", "digits"),
    ("8", "both", _, 8, F, "en", "digits"),
    ("5 and 8 out of 10", "both", 5, 8, F, "en", "digits"),
    ("five", "csat", 5, _, F, "en", "digits"),
    ("Four", "csat", 4, _, F, "en", "digits"),
    ("Order #123456 arrived, 5", "csat", 5, _, F, "en", "digits"),
    ("Called at 10:30, all sorted. 4", "csat", 4, _, F, "en", "digits"),
    ("Waited 3 days but it's sorted now. 4", "csat", 4, _, F, "en", "digits"),
    ("Got 2 packages, both fine. 5", "csat", 5, _, F, "en", "digits"),
    ("24/7 support is great", "csat", 5, _, F, "en", "words"),
    ("My order 998877", "csat", _, _, F, "en", "unreadable"),
    ("Call me at 555-123-4567", "csat", _, _, F, "en", "unreadable"),
    ("Delivered on 12/05, thanks", "csat", _, _, F, "en", "unreadable"),
    ("It took 2 hours", "csat", _, _, F, "en", "unreadable"),
    ("I paid $50 for this", "csat", _, _, F, "en", "unreadable"),
    ("See you in 2025", "csat", _, _, F, "en", "unreadable"),
    ("Back in 5 minutes", "csat", _, _, F, "en", "unreadable"),
    ("on the 3rd of May", "csat", _, _, F, "en", "unreadable"),
    ("5 minutes ago I wrote you", "csat", _, _, F, "en", "unreadable"),
    # ---------------------------------------------------------------- English: stars
    ("⭐⭐⭐⭐", "csat", 4, _, F, "en", "stars"),
    ("3 stars", "csat", 3, _, F, "en", "stars"),
    ("Five stars!", "csat", 5, _, F, "en", "stars"),
    ("one star", "csat", 1, _, F, "en", "stars"),
    ("4 stars, thanks", "csat", 4, _, F, "en", "stars"),
    ("*****", "csat", 5, _, F, "en", "stars"),
    ("★★☆☆☆", "csat", 2, _, F, "en", "stars"),
    ("5 stars", "both", 5, _, F, "en", "stars"),
    ("★★★★", "nps", _, 7, F, "en", "stars"),
    ("2 stars. Meh", "csat", 2, _, F, "en", "stars"),
    # ---------------------------------------------------------------- English: emoji
    ("👍", "both", 4, _, F, "en", "emoji"),
    ("😡😡😡", "csat", 1, _, F, "en", "emoji"),
    ("🙂", "nps", _, 7, F, "en", "emoji"),
    ("😐", "nps", _, 5, F, "en", "emoji"),
    ("👎", "nps", _, 3, F, "en", "emoji"),
    ("❤️❤️", "csat", 5, _, F, "en", "emoji"),
    ("🤮", "csat", 1, _, F, "en", "emoji"),
    ("😒", "csat", 2, _, F, "en", "emoji"),
    ("Thanks 👍", "csat", 4, _, F, "en", "emoji"),
    ("😊😊", "csat", 4, _, F, "en", "emoji"),
    ("🔥👍", "csat", 4, _, F, "en", "emoji"),
    ("😍😍😍", "nps", _, 9, F, "en", "emoji"),
    ("🤣", "csat", _, _, F, "en", "unreadable"),
    ("👀", "csat", _, _, F, "en", "unreadable"),
    # ---------------------------------------------------------------- English: words
    ("great", "csat", 5, _, F, "en", "words"),
    ("Great, thanks!", "csat", 5, _, F, "en", "words"),
    ("GREAT!!!", "csat", 5, _, F, "en", "words"),
    ("excellent", "csat", 5, _, F, "en", "words"),
    ("Excellent service", "csat", 5, _, F, "en", "words"),
    ("awesome", "csat", 5, _, F, "en", "words"),
    ("perfect", "csat", 5, _, F, "en", "words"),
    ("amazing, thank you", "csat", 5, _, F, "en", "words"),
    ("good", "csat", 4, _, F, "en", "words"),
    ("Good", "nps", _, 7, F, "en", "words"),
    ("very good", "csat", 5, _, F, "en", "words"),
    ("pretty good", "csat", 4, _, F, "en", "words"),
    ("fine", "csat", 3, _, F, "en", "words"),
    ("meh", "csat", 3, _, F, "en", "words"),
    ("so-so", "csat", 3, _, F, "en", "words"),
    ("average", "csat", 3, _, F, "en", "words"),
    ("could be better", "csat", 3, _, F, "en", "words"),
    ("bad", "csat", 2, _, F, "en", "words"),
    ("poor", "csat", 2, _, F, "en", "words"),
    ("terrible", "csat", 1, _, F, "en", "words"),
    ("Terrible!", "nps", _, 0, F, "en", "words"),
    ("awful", "csat", 1, _, F, "en", "words"),
    ("horrible experience", "csat", 1, _, F, "en", "words"),
    ("worst support ever", "csat", 1, _, F, "en", "words"),
    ("very bad", "csat", 1, _, F, "en", "words"),
    ("disappointing", "csat", 2, _, F, "en", "words"),
    ("great", "nps", _, 9, F, "en", "words"),
    ("great", "both", 5, _, F, "en", "words"),
    ("would recommend", "nps", _, 9, F, "en", "words"),
    ("Would definitely recommend to friends", "nps", _, 9, F, "en", "words"),
    ("excellent, would recommend", "both", 5, 9, F, "en", "words"),
    ("love it", "csat", 5, _, F, "en", "words"),
    ("The agent was super helpful, great job", "csat", 5, _, F, "en", "words"),
    ("Quick and friendly, good", "csat", 4, _, F, "en", "words"),
    ("happy with it", "csat", 4, _, F, "en", "words"),
    ("very happy", "csat", 5, _, F, "en", "words"),
    ("dissatisfied", "csat", 2, _, F, "en", "words"),
    ("excelent", "csat", 5, _, F, "en", "words"),
    ("awsome", "csat", 5, _, F, "en", "words"),
    ("terible", "csat", 1, _, F, "en", "words"),
    ("goood", "csat", 4, _, F, "en", "words"),
    ("gr8", "csat", 5, _, F, "en", "words"),
    ("Everything was fine with the support, 5 stars, quick and polite. Have a nice weekend!",
     "csat", 5, _, F, "en", "stars"),
    ("Honestly it was so-so. Took 3 days to get an answer but you solved it. 3",
     "csat", 3, _, F, "en", "digits"),
    ("Problem solved, 5", "csat", 5, _, F, "en", "digits"),
    ("No problems at all, 5", "csat", 5, _, F, "en", "digits"),
    ("Works now, great!", "csat", 5, _, F, "en", "words"),
    ("It took a while but it works now. 4", "csat", 4, _, F, "en", "digits"),
    # ---------------------------------------------------------------- English: negation
    ("not bad", "csat", 4, _, F, "en", "negation"),
    ("Not bad at all", "csat", 4, _, F, "en", "negation"),
    ("not great", "csat", 2, _, F, "en", "negation"),
    ("not good", "csat", 2, _, F, "en", "negation"),
    ("not terrible", "csat", 3, _, F, "en", "negation"),
    ("not bad", "nps", _, 7, F, "en", "negation"),
    ("not great", "nps", _, 3, F, "en", "negation"),
    ("Not the best", "csat", 3, _, F, "en", "negation"),
    ("not happy", "csat", 2, _, F, "en", "negation"),
    ("not satisfied", "csat", 2, _, F, "en", "negation"),
    ("wouldn't recommend", "nps", _, 0, F, "en", "negation"),
    ("would not recommend", "nps", _, 0, F, "en", "negation"),
    ("I would never recommend you", "nps", _, 0, F, "en", "negation"),
    ("not very good", "csat", 2, _, F, "en", "negation"),
    ("not so good", "csat", 2, _, F, "en", "negation"),
    # ---------------------------------------------------------------- English: sarcasm
    ("Great, now it doesn't work at all", "csat", _, _, T, "en", "sarcasm"),
    ("Oh great, charged twice again", "csat", _, _, T, "en", "sarcasm"),
    ("Thanks for nothing", "csat", _, _, F, "en", "sarcasm"),
    ("Yeah right, 5 stars", "csat", _, _, F, "en", "sarcasm"),
    ("Amazing. Still waiting for my refund", "csat", _, _, T, "en", "sarcasm"),
    ("Perfect, the internet is down again", "csat", _, _, T, "en", "sarcasm"),
    ("Wonderful service 🙄", "csat", _, _, F, "en", "sarcasm"),
    ("Just great. Nobody called me back", "csat", _, _, T, "en", "sarcasm"),
    ("10/10 as usual nothing works", "nps", _, _, T, "en", "sarcasm"),
    ("Excellent job breaking my account", "csat", _, _, T, "en", "sarcasm"),
    ("Fantastic, the app crashed again", "csat", _, _, T, "en", "sarcasm"),
    # ---------------------------------------------------------------- English: a new problem
    ("5, but the app still doesn't work", "csat", 5, _, T, "en", "complaint"),
    ("4. But my promo code never arrived", "csat", 4, _, T, "en", "complaint"),
    ("Doesn't work", "csat", _, _, T, "en", "complaint"),
    ("Still waiting for my refund", "csat", _, _, T, "en", "complaint"),
    ("I want a refund", "csat", _, _, T, "en", "complaint"),
    ("The problem is not solved", "csat", _, _, T, "en", "complaint"),
    ("Terrible, still broken", "csat", 1, _, T, "en", "complaint"),
    ("2, courier was late again", "csat", 2, _, T, "en", "complaint"),
    ("Where is my order?", "csat", _, _, T, "en", "complaint"),
    ("Good, but now I can't log in", "csat", _, _, T, "en", "complaint"),
    ("I was charged twice", "csat", _, _, T, "en", "complaint"),
    ("9 but the delivery is late again", "nps", _, 9, T, "en", "complaint"),
    ("Nobody answers my emails", "csat", _, _, T, "en", "complaint"),
    ("Hi, thanks for sorting out the delivery issue last week, the agent was really nice. I'd give you a 4. "
     "However, today I received the wrong item in my new order, please help",
     "csat", 4, _, T, "en", "complaint"),
    ("Hello, I appreciate the quick answer, but the refund still hasn't arrived and it's been 10 days. "
     "Please check", "csat", _, _, T, "en", "complaint"),
    ("Error again when paying", "csat", _, _, T, "en", "complaint"),
    ("ticket 4521 still open", "csat", _, _, T, "en", "complaint"),
    ("1 - my package is missing again", "csat", 1, _, T, "en", "complaint"),
    ("WHY WAS I CHARGED AGAIN???", "csat", _, _, T, "en", "complaint"),
    # ---------------------------------------------------------------- English: unreadable
    ("thanks", "csat", _, _, F, "en", "unreadable"),
    ("Thank you!", "csat", _, _, F, "en", "unreadable"),
    ("thx", "csat", _, _, F, "en", "unreadable"),
    ("?", "csat", _, _, F, "en", "unreadable"),
    ("What survey?", "csat", _, _, F, "en", "unreadable"),
    ("who is this", "csat", _, _, F, "en", "unreadable"),
    ("stop sending me these", "csat", _, _, F, "en", "unreadable"),
    ("Not now", "csat", _, _, F, "en", "unreadable"),
    ("Maybe later", "csat", _, _, F, "en", "unreadable"),
    ("I don't know", "csat", _, _, F, "en", "unreadable"),
    ("Yes", "csat", _, _, F, "en", "unreadable"),
    ("no", "csat", _, _, F, "en", "unreadable"),
    ("lol", "csat", _, _, F, "en", "unreadable"),
    ("Hard to say", "csat", _, _, F, "en", "unreadable"),
    ("I'll rate it when the parcel arrives", "csat", _, _, F, "en", "unreadable"),
    ("Can I get a discount?", "csat", _, _, F, "en", "unreadable"),
    ("Call me back please", "csat", _, _, F, "en", "unreadable"),
    ("Have a great day!", "csat", _, _, F, "en", "unreadable"),
    ("All the best", "csat", _, _, F, "en", "unreadable"),
    ("ok", "csat", _, _, F, "en", "unreadable"),
    ("okay", "csat", _, _, F, "en", "unreadable"),
    ("OK thanks", "csat", _, _, F, "en", "unreadable"),
    ("ok", "nps", _, _, F, "en", "unreadable"),
    ("depends", "nps", _, _, F, "en", "unreadable"),
    ("Recommend to whom?", "nps", _, _, F, "en", "unreadable"),
    ("thanks, you too", "both", _, _, F, "en", "unreadable"),
    ("Is it normal that the courier calls from a private number?", "csat", _, _, F, "en", "unreadable"),
    ("Good morning, who am I talking to?", "csat", _, _, F, "en", "unreadable"),
    # ---------------------------------------------------------------- fresh answers
    # Two batches written after the rules above were in place and read once before any change: the
    # first 79 read 71 right (89.9%, three unreadable ones given a score), the next 60 read 58 right
    # (96.7%, none given a score; 59 kept here, a duplicate dropped). The general rules they showed
    # missing were then added (acknowledgements, "не могу сказать, что", worded fractions, "if you
    # like", more complaint verbs); no label was changed.
    ("Спасибо, ставлю пятёрку!", "csat", 5, _, F, "ru", "digits"),
    ("четыре", "csat", 4, _, F, "ru", "digits"),
    ("оценка - 5", "csat", 5, _, F, "ru", "digits"),
    ("5 баллов из 5", "csat", 5, _, F, "ru", "digits"),
    ("ну на троечку", "csat", 3, _, F, "ru", "digits"),
    ("Поставлю 2. Долго отвечали", "csat", 2, _, F, "ru", "digits"),
    ("8 из 10", "nps", _, 8, F, "ru", "digits"),
    ("Твёрдая десятка", "nps", _, 10, F, "ru", "digits"),
    ("Думаю, 7", "nps", _, 7, F, "ru", "digits"),
    ("5 и 9", "both", 5, 9, F, "ru", "digits"),
    ("4, порекомендую", "both", 4, 9, F, "ru", "digits"),
    ("Заказ 5567 получил, всё ок, 5", "csat", 5, _, F, "ru", "digits"),
    ("Привезли 3 коробки, всё целое. Оценка 5", "csat", 5, _, F, "ru", "digits"),
    ("5 звезд из 5", "csat", 5, _, F, "ru", "stars"),
    ("⭐⭐⭐⭐ за скорость", "csat", 4, _, F, "ru", "stars"),
    ("две звезды", "csat", 2, _, F, "ru", "stars"),
    ("💪", "csat", _, _, F, "ru", "unreadable"),
    ("👍🏻", "csat", 4, _, F, "ru", "emoji"),
    ("Спасибо ❤️", "csat", 5, _, F, "ru", "emoji"),
    ("😠", "nps", _, 0, F, "ru", "emoji"),
    ("Отличная работа!", "csat", 5, _, F, "ru", "words"),
    ("всё хорошо", "csat", 4, _, F, "ru", "words"),
    ("Очень довольна, спасибо", "csat", 5, _, F, "ru", "words"),
    ("плоховато", "csat", 2, _, F, "ru", "words"),
    ("Шикарно!", "csat", 5, _, F, "ru", "words"),
    ("нормас", "csat", 3, _, F, "ru", "words"),
    ("Отвратительное обслуживание", "csat", 1, _, F, "ru", "words"),
    ("Посоветую знакомым", "nps", _, 9, F, "ru", "words"),
    ("Не очень понравилось", "csat", 2, _, F, "ru", "negation"),
    ("не фонтан", "csat", 2, _, F, "ru", "negation"),
    ("Не могу сказать, что хорошо", "csat", 2, _, F, "ru", "negation"),
    ("Не то чтобы отлично, но хорошо", "csat", 4, _, F, "ru", "negation"),
    ("Спасибо огромное, вы лучшие, только курьер опять опоздал на час", "csat", _, _, T, "ru", "sarcasm"),
    ("Класс. Второй раз привозят не тот товар", "csat", _, _, T, "ru", "sarcasm"),
    ("Ну-ну, 5 конечно", "csat", _, _, F, "ru", "sarcasm"),
    ("4, но деньги за доставку так и не вернули", "csat", 4, _, T, "ru", "complaint"),
    ("Приложение не открывается", "csat", _, _, T, "ru", "complaint"),
    ("Курьер нахамил сегодня, разберитесь пожалуйста", "csat", _, _, T, "ru", "complaint"),
    ("Хочу вернуть товар, как это сделать?", "csat", _, _, T, "ru", "complaint"),
    ("Почему мне не пришёл чек?", "csat", _, _, T, "ru", "complaint"),
    ("Ужасно. Мне снова прислали не тот размер", "csat", 1, _, T, "ru", "complaint"),
    ("Вопрос закрыт, спасибо", "csat", _, _, F, "ru", "unreadable"),
    ("Понятно", "csat", _, _, F, "ru", "unreadable"),
    ("Хорошо, буду знать", "csat", _, _, F, "ru", "unreadable"),
    ("а вы кто", "csat", _, _, F, "ru", "unreadable"),
    ("До свидания", "csat", _, _, F, "ru", "unreadable"),
    ("Ок, 👌 понял", "csat", _, _, F, "ru", "unreadable"),
    ("Напишу отзыв на сайте", "nps", _, _, F, "ru", "unreadable"),
    ("Оценивать не буду", "both", _, _, F, "ru", "unreadable"),
    ("Завтра в 11 буду дома", "csat", _, _, F, "ru", "unreadable"),
    ("Give it a 4", "csat", 4, _, F, "en", "digits"),
    ("5 - great service", "csat", 5, _, F, "en", "digits"),
    ("I'd say 8", "nps", _, 8, F, "en", "digits"),
    ("10 out of 10!", "nps", _, 10, F, "en", "digits"),
    ("3 and 6", "both", 3, 6, F, "en", "digits"),
    ("Order 44 arrived, rating 5", "csat", 5, _, F, "en", "digits"),
    ("four stars", "csat", 4, _, F, "en", "stars"),
    ("⭐⭐", "csat", 2, _, F, "en", "stars"),
    ("👍👍", "nps", _, 7, F, "en", "emoji"),
    ("🙁", "csat", 2, _, F, "en", "emoji"),
    ("Superb support, thanks", "csat", 5, _, F, "en", "words"),
    ("it was ok I guess", "csat", _, _, F, "en", "unreadable"),
    ("pretty bad", "csat", 2, _, F, "en", "words"),
    ("Really good", "csat", 5, _, F, "en", "words"),
    ("Mediocre", "csat", 2, _, F, "en", "words"),
    ("Absolutely brilliant", "csat", 5, _, F, "en", "words"),
    ("I would recommend you", "nps", _, 9, F, "en", "words"),
    ("not impressed", "csat", 2, _, F, "en", "negation"),
    ("not too happy", "csat", 2, _, F, "en", "negation"),
    ("Lovely, my parcel is lost again", "csat", _, _, T, "en", "sarcasm"),
    ("Sure, 10/10, if you like waiting forever", "nps", _, _, F, "en", "sarcasm"),
    ("3, and the invoice is still wrong", "csat", 3, _, T, "en", "complaint"),
    ("The app keeps crashing", "csat", _, _, T, "en", "complaint"),
    ("I never got my money back", "csat", _, _, T, "en", "complaint"),
    ("Got it, thanks", "csat", _, _, F, "en", "unreadable"),
    ("Bye", "csat", _, _, F, "en", "unreadable"),
    ("Will do", "nps", _, _, F, "en", "unreadable"),
    ("I'll think about it", "nps", _, _, F, "en", "unreadable"),
    ("At 5 I'll be home", "csat", _, _, F, "en", "unreadable"),
    ("5 однозначно", "csat", 5, _, F, "ru", "digits"),
    ("Ставлю 4 из 5, минус балл за ожидание", "csat", 4, _, F, "ru", "digits"),
    ("на 3", "csat", 3, _, F, "ru", "digits"),
    ("Оценка 1", "csat", 1, _, F, "ru", "digits"),
    ("9, спасибо за помощь", "nps", _, 9, F, "ru", "digits"),
    ("Порекомендую на 8", "nps", _, 8, F, "ru", "digits"),
    ("5/5 и 10/10", "both", 5, 10, F, "ru", "digits"),
    ("4 и 7", "both", 4, 7, F, "ru", "digits"),
    ("оценка 5, рекомендовать буду на 10", "both", 5, 10, F, "ru", "digits"),
    ("Приехал через 40 минут после звонка, 5", "csat", 5, _, F, "ru", "digits"),
    ("Обращение 2 раза переводили, но решили. 4", "csat", 4, _, F, "ru", "digits"),
    ("★★★★★ лучший магазин", "csat", 5, _, F, "ru", "stars"),
    ("4 звёздочки", "csat", 4, _, F, "ru", "stars"),
    ("😁", "csat", _, _, F, "ru", "unreadable"),
    ("🥰", "csat", 5, _, F, "ru", "emoji"),
    ("👎👎", "nps", _, 3, F, "ru", "emoji"),
    ("Спасибо, очень хорошо всё объяснили", "csat", 5, _, F, "ru", "words"),
    ("Всё прошло идеально", "csat", 5, _, F, "ru", "words"),
    ("Ну так, средненько", "csat", 3, _, F, "ru", "words"),
    ("Быстро и вежливо, молодцы!", "csat", 5, _, F, "ru", "words"),
    ("Плохо работаете", "csat", 2, _, F, "ru", "words"),
    ("Всё было ужасно от начала до конца", "csat", 1, _, F, "ru", "words"),
    ("Рекомендую!", "nps", _, 9, F, "ru", "words"),
    ("Неплохо, могли бы и побыстрее", "csat", 4, _, F, "ru", "negation"),
    ("Не особо хорошо", "csat", 2, _, F, "ru", "negation"),
    ("не советую", "nps", _, 0, F, "ru", "negation"),
    ("Ну, отлично, конечно. Посылка так и не пришла, трек не обновляется", "csat", _, _, T, "ru", "sarcasm"),
    ("Супер сервис, час на линии и никто не ответил", "csat", _, _, T, "ru", "sarcasm"),
    ("5 за вежливость, но у меня опять списали подписку", "csat", 5, _, T, "ru", "complaint"),
    ("Промокод не применяется", "csat", _, _, T, "ru", "complaint"),
    ("У меня новая проблема: не могу поменять адрес доставки", "csat", _, _, T, "ru", "complaint"),
    ("Деньги до сих пор не вернулись", "nps", _, _, T, "ru", "complaint"),
    ("Всё понятно, спасибо", "csat", _, _, F, "ru", "unreadable"),
    ("Угу", "csat", _, _, F, "ru", "unreadable"),
    ("Спасибо, что уточнили", "csat", _, _, F, "ru", "unreadable"),
    ("А можно оформить доставку на 5 число?", "csat", _, _, F, "ru", "unreadable"),
    ("Когда будет скидка 10%?", "nps", _, _, F, "ru", "unreadable"),
    ("Я подумаю", "nps", _, _, F, "ru", "unreadable"),
    ("9/10 would buy again", "nps", _, 9, F, "en", "digits"),
    ("Rate: 4 of 5", "csat", 4, _, F, "en", "digits"),
    ("5 for Anna, she was great", "csat", 5, _, F, "en", "digits"),
    ("2 out of 5, slow", "csat", 2, _, F, "en", "digits"),
    ("10 and 5", "both", 5, 10, F, "en", "digits"),
    ("Four out of five", "csat", 4, _, F, "en", "digits"),
    ("3 stars, it was okay", "csat", 3, _, F, "en", "stars"),
    ("😃", "csat", 4, _, F, "en", "emoji"),
    ("🤬 never again", "csat", 1, _, F, "en", "emoji"),
    ("Fantastic service!", "csat", 5, _, F, "en", "words"),
    ("Pretty poor to be honest", "csat", 2, _, F, "en", "words"),
    ("all good", "csat", 4, _, F, "en", "words"),
    ("Wouldn't recommend to anyone", "nps", _, 0, F, "en", "negation"),
    ("not the worst", "csat", 3, _, F, "en", "negation"),
    ("Great job, but my order is still missing", "csat", _, _, T, "en", "sarcasm"),
    ("5 but I still can't access my account", "csat", 5, _, T, "en", "complaint"),
    ("There's a new problem with my bill", "csat", _, _, T, "en", "complaint"),
    ("Sure", "csat", _, _, F, "en", "unreadable"),
    ("Thanks for the follow up", "csat", _, _, F, "en", "unreadable"),
    ("What does 5 mean?", "csat", _, _, F, "en", "unreadable"),
    ("Are you a bot?", "nps", _, _, F, "en", "unreadable"),
]
# fmt: on
CASES: list[Case] = [Case(*row) for row in _ROWS]

ACCURACY_FILE = Path("/tmp/parser_accuracy.txt")


def _right(case: Case, reading: AnswerReading) -> bool:
    return (reading.csat, reading.nps) == (case.csat, case.nps)


def accuracy_table(cases: list[Case]) -> tuple[str, float, list[tuple[Case, AnswerReading]]]:
    """The accuracy (scores read right) by language and by category, the overall share and the misses."""
    groups: dict[str, list[bool]] = defaultdict(list)
    misses: list[tuple[Case, AnswerReading]] = []
    complaint_right = 0
    for case in cases:
        reading = read_answer(case.text, case.kind)
        ok = _right(case, reading)
        complaint_right += reading.complaint == case.complaint
        groups[f"language  {case.lang}"].append(ok)
        groups[f"category  {case.category}"].append(ok)
        groups["all"].append(ok)
        if not ok:
            misses.append((case, reading))
    lines = [f"{'group':<22} {'answers':>8} {'read right':>11} {'accuracy':>9}"]
    for name in sorted(groups, key=lambda n: (n == "all", n)):
        hits = groups[name]
        lines.append(f"{name:<22} {len(hits):>8} {sum(hits):>11} {sum(hits) / len(hits):>9.1%}")
    share = complaint_right / len(cases)
    lines.append(f"{'complaint flag right':<22} {len(cases):>8} {complaint_right:>11} {share:>9.1%}")
    overall = sum(groups["all"]) / len(cases)
    return "\n".join(lines), overall, misses


def test_the_labelled_set_is_large_mixed_and_a_fifth_unreadable() -> None:
    assert len(CASES) >= 300
    russian = sum(c.lang == "ru" for c in CASES) / len(CASES)
    # answers with no score to read at all; sarcastic and complaining answers without a score (another
    # eighth of the set) are counted in their own categories
    unreadable = sum(c.category == "unreadable" for c in CASES) / len(CASES)
    assert 0.55 <= russian <= 0.65
    assert 0.20 <= unreadable <= 0.25
    assert all(c.csat is None and c.nps is None for c in CASES if c.category == "unreadable")
    for case in CASES:
        assert case.csat is None or (1 <= case.csat <= 5 and case.kind != "nps")
        assert case.nps is None or (0 <= case.nps <= 10 and case.kind != "csat")


def test_at_least_95_percent_read_right_and_no_unreadable_answer_gets_a_score() -> None:
    table, overall, misses = accuracy_table(CASES)
    ACCURACY_FILE.write_text(table + "\n")
    print("\n" + table)
    for case, reading in misses:
        print(f"MISS {case.text!r} ({case.kind}): expected {case.csat}/{case.nps}, read {reading}")
    guessed = [(c.text, r) for c, r in misses if c.csat is None and c.nps is None and r.readable]
    assert guessed == []
    assert overall >= 0.95


def test_complaint_flag_matches_the_labels() -> None:
    wrong = [(c.text, c.complaint) for c in CASES if read_answer(c.text, c.kind).complaint != c.complaint]
    assert len(wrong) <= len(CASES) * 0.05, wrong


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("5 и 10", "both", AnswerReading(csat=5, nps=10)),
        ("10 из 10", "nps", AnswerReading(nps=10)),
        ("ну спасибо, отлично, третий день жду", "csat", AnswerReading(complaint=True)),
        ("заказ 123456", "csat", AnswerReading()),
        ("в 10:30", "nps", AnswerReading()),
        ("6", "csat", AnswerReading()),
        ("4,5", "both", AnswerReading()),  # a decimal comma, not two answers
        ("5, 10", "both", AnswerReading(csat=5, nps=10)),
    ],
)
def test_examples_from_the_issue(text: str, kind: SurveyKind, expected: AnswerReading) -> None:
    assert read_answer(text, kind) == expected


def test_only_the_asked_scale_is_filled() -> None:
    assert read_answer("отлично", "csat") == AnswerReading(csat=5)
    assert read_answer("отлично", "nps") == AnswerReading(nps=9)
    assert read_answer("9", "csat") == AnswerReading()
    assert read_answer("3", "nps") == AnswerReading(nps=3)


@pytest.mark.parametrize(
    ("reading", "negative", "reopens"),
    [
        (AnswerReading(csat=5, complaint=True), False, True),  # a score and a new problem
        (AnswerReading(complaint=True), True, True),
        (AnswerReading(), True, True),  # unreadable and the model says negative
        (AnswerReading(), False, False),  # "спасибо": nothing to reopen
        (AnswerReading(csat=2), True, False),  # a low score alone: a follow-up task, not a reopen
        (AnswerReading(nps=0), True, False),
        (AnswerReading(csat=5), False, False),
    ],
)
def test_when_a_survey_answer_reopens_the_thread(
    reading: AnswerReading, negative: bool, reopens: bool
) -> None:
    assert carries_new_problem(reading, negative) is reopens


@pytest.mark.parametrize("text", ["5" * 5000, "1 " * 5000, "отлично " * 1250, "⭐" * 5000, "не " * 3000])
def test_a_long_paste_is_read_quickly_and_not_scored(text: str) -> None:
    import time

    started = time.perf_counter()
    reading = read_answer(text, "both")
    assert time.perf_counter() - started < 1.0
    assert reading.nps is None


def test_reading_the_whole_set_is_fast() -> None:
    import time

    started = time.perf_counter()
    for case in CASES:
        read_answer(case.text, case.kind)
    assert time.perf_counter() - started < 2.0
