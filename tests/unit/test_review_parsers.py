"""Every saved review page parsed, with the expected fields written out in full."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.errors import BrokenPayload
from ingest.http import PoliteClient, parse_retry_after
from ingest.reviews import (
    REVIEW_ADAPTERS,
    IrecommendCollector,
    OtzovikCollector,
    RssCollector,
    build_review_collector,
    irecommend,
    otzovik,
)
from ingest.reviews.model import ReviewTeaser
from ingest.reviews.parsing import parse_ru_datetime, stars_to_rating
from ingest.reviews.rss import parse_feed
from schemas import Mention
from schemas.mention import Author

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reviews"
NOW = datetime(2025, 3, 15, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
OTZ = "https://otzovik.com"
IREC = "https://irecommend.ru"


def _page(site: str, name: str) -> str:
    return (FIXTURES / site / name).read_text("utf-8")


def _utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _fields(mention: Mention) -> dict[str, object]:
    return mention.model_dump(exclude={"collected_at", "schema_version", "metrics", "lang"})


# -- helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 марта 2025", _utc(2025, 3, 11, 21, 0)),
        ("12 Март 2025", _utc(2025, 3, 11, 21, 0)),
        ("14 мар 2025", _utc(2025, 3, 13, 21, 0)),
        ("1 мая 2024 в 7:05", _utc(2024, 5, 1, 4, 5)),
        ("12 марта 2025 г., 14:05", _utc(2025, 3, 12, 11, 5)),
        ("2 Март 2025 - 12:30", _utc(2025, 3, 2, 9, 30)),
        ("12.03.2025 14:05", _utc(2025, 3, 12, 11, 5)),
        ("12.03.25", _utc(2025, 3, 11, 21, 0)),
        ("сегодня в 09:10", _utc(2025, 3, 15, 6, 10)),
        ("вчера в 18:40", _utc(2025, 3, 14, 15, 40)),
        ("Вчера", _utc(2025, 3, 13, 21, 0)),
        ("позавчера, 23:59", _utc(2025, 3, 13, 20, 59)),
        ("2025-03-12T14:05:00+03:00", _utc(2025, 3, 12, 11, 5)),
        ("2025-03-12T14:05:00Z", _utc(2025, 3, 12, 14, 5)),
        ("2025-03-12 14:05", _utc(2025, 3, 12, 11, 5)),
        ("31.02.2025", None),
        ("12 смарта 2025", None),
        ("", None),
        ("давно", None),
    ],
)
def test_russian_dates_are_moscow_time_turned_utc(text: str, expected: datetime | None) -> None:
    assert parse_ru_datetime(text, NOW) == expected


def test_relative_dates_follow_the_moscow_calendar_day_not_the_utc_one() -> None:
    late_utc = _utc(2025, 3, 14, 22, 30)  # already 15 March, 01:30 in Moscow
    assert parse_ru_datetime("вчера в 10:00", late_utc) == _utc(2025, 3, 14, 7, 0)


@pytest.mark.parametrize(
    ("value", "best", "expected"),
    [("1", 5.0, 2.0), ("5", 5.0, 10.0), (3, 5.0, 6.0), ("4,5", 5.0, 9.0), ("7", 10.0, 7.0), ("6", 5.0, None)],
)
def test_star_ratings_map_onto_zero_to_ten(value: str | int, best: float, expected: float | None) -> None:
    assert stars_to_rating(value, best) == expected


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait


# -- otzovik.com -------------------------------------------------------------------------------


def test_otzovik_list_page_one_has_three_teasers_and_a_next_link() -> None:
    page = otzovik.parse_list_page(_page("otzovik", "list_p1.html"), f"{OTZ}/reviews/magazin_acme/", NOW)
    assert page.teasers == (
        ReviewTeaser("1005", f"{OTZ}/review_1005.html", _utc(2025, 3, 14, 16, 30)),
        ReviewTeaser("1004", f"{OTZ}/review_1004.html", _utc(2025, 3, 13, 9, 0)),
        ReviewTeaser("1003", f"{OTZ}/review_1003.html", _utc(2025, 3, 12, 11, 5)),
    )
    assert page.next_url == f"{OTZ}/reviews/magazin_acme/2/"


def test_otzovik_last_list_page_has_no_next_link_and_reads_a_text_date() -> None:
    page = otzovik.parse_list_page(_page("otzovik", "list_p2.html"), f"{OTZ}/reviews/magazin_acme/2/", NOW)
    assert page.teasers == (
        ReviewTeaser("1002", f"{OTZ}/review_1002.html", _utc(2025, 3, 8, 6, 0)),
        ReviewTeaser("1001", f"{OTZ}/review_1001.html", _utc(2025, 3, 4, 21, 0)),
    )
    assert page.next_url is None


def test_otzovik_earlier_list_page() -> None:
    page = otzovik.parse_list_page(_page("otzovik", "list_early.html"), f"{OTZ}/reviews/magazin_acme/", NOW)
    assert [t.key for t in page.teasers] == ["1003", "1002"]
    assert page.next_url == f"{OTZ}/reviews/magazin_acme/2/"


def _otzovik(number: int) -> list[Mention]:
    url = f"{OTZ}/review_{number}.html"
    return otzovik.parse_review_page(_page("otzovik", f"review_{number}.html"), url, NOW).to_mentions(
        "otzovik.com", "acme"
    )


def test_otzovik_review_with_official_answer_gives_the_review_and_a_brand_reply() -> None:
    review, answer = _otzovik(1005)
    assert _fields(review) == {
        "source": "review:otzovik.com",
        "external_id": "1005",
        "thread_key": "review:otzovik.com:1005",
        "parent_external_id": None,
        "url": f"{OTZ}/review_1005.html",
        "author": Author(id="ivan_petrov", name="ivan_petrov", url=f"{OTZ}/profile/ivan_petrov").model_dump(),
        "text": "Магазин Acme - Курьер не приехал, деньги не вернули\n\n"
        "Достоинства: Большой выбор\nНедостатки: Доставка, поддержка\n\n"
        "Заказал робот-пылесос 1 марта, оплатил сразу на сайте.\n"
        "Курьер дважды переносил доставку, потом заказ просто отменили.\n"
        "Деньги обещали вернуть за 3 дня, прошло две недели. Поддержка отвечает шаблонами.",
        "created_at": _utc(2025, 3, 14, 16, 30),
        "brand": "acme",
        "rating": 2.0,
    }
    assert _fields(answer) == {
        "source": "review:otzovik.com",
        "external_id": "1005-answer-50071",
        "thread_key": "review:otzovik.com:1005",
        "parent_external_id": "1005",
        "url": f"{OTZ}/review_1005.html#comment_50071",
        "author": Author(
            id="acme_official", name="Магазин Acme", url=f"{OTZ}/profile/acme_official", is_brand=True
        ).model_dump(),
        "text": "Иван, здравствуйте! Приносим извинения за задержку.\n"
        "Возврат по заказу 48213 оформлен, деньги поступят на карту в течение 2 рабочих дней.",
        "created_at": _utc(2025, 3, 15, 7, 20),
        "brand": "acme",
        "rating": None,
    }


def test_otzovik_review_with_only_user_comments_has_no_brand_reply() -> None:
    (review,) = _otzovik(1003)
    assert _fields(review) == {
        "source": "review:otzovik.com",
        "external_id": "1003",
        "thread_key": "review:otzovik.com:1003",
        "parent_external_id": None,
        "url": f"{OTZ}/review_1003.html",
        "author": Author(id="olga_s", name="Ольга С.", url=f"{OTZ}/profile/olga_s").model_dump(),
        "text": "Магазин Acme - В целом довольна, но упаковка подвела\n\n"
        "Достоинства: Цена, быстрая доставка\nНедостатки: Мятая коробка\n\n"
        "Брала кофемашину по акции, привезли на следующий день.\n"
        "Коробка была мятая, но сама машина целая и работает.",
        "created_at": _utc(2025, 3, 12, 11, 5),
        "brand": "acme",
        "rating": 8.0,
    }


def test_otzovik_review_without_pros_and_cons() -> None:
    (review,) = _otzovik(1002)
    assert _fields(review) == {
        "source": "review:otzovik.com",
        "external_id": "1002",
        "thread_key": "review:otzovik.com:1002",
        "parent_external_id": None,
        "url": f"{OTZ}/review_1002.html",
        "author": Author(id="dmitry77", name="dmitry77", url=f"{OTZ}/profile/dmitry77").model_dump(),
        "text": "Магазин Acme - Нормально, но без восторга\n\n"
        "Третий заказ в этом магазине. Всё пришло, но на день позже обещанного.",
        "created_at": _utc(2025, 3, 8, 6, 0),
        "brand": "acme",
        "rating": 6.0,
    }


def test_otzovik_review_with_a_text_only_date_and_an_official_answer() -> None:
    review, answer = _otzovik(1001)
    assert _fields(review) == {
        "source": "review:otzovik.com",
        "external_id": "1001",
        "thread_key": "review:otzovik.com:1001",
        "parent_external_id": None,
        "url": f"{OTZ}/review_1001.html",
        "author": Author(id="anna_m", name="anna_m", url=f"{OTZ}/profile/anna_m").model_dump(),
        "text": "Магазин Acme - Прислали не тот цвет\n\n"
        "Достоинства: Нет\nНедостатки: Перепутали заказ\n\n"
        "Заказывала чёрный чайник, пришёл белый. Обмен только через пункт выдачи.",
        "created_at": _utc(2025, 3, 4, 21, 0),
        "brand": "acme",
        "rating": 4.0,
    }
    assert _fields(answer) == {
        "source": "review:otzovik.com",
        "external_id": "1001-answer-49990",
        "thread_key": "review:otzovik.com:1001",
        "parent_external_id": "1001",
        "url": f"{OTZ}/review_1001.html#comment_49990",
        "author": Author(
            id="acme_official", name="Магазин Acme", url=f"{OTZ}/profile/acme_official", is_brand=True
        ).model_dump(),
        "text": "Анна, добрый день! Курьер заберёт чайник и привезёт нужный цвет бесплатно, с вами свяжутся.",
        "created_at": _utc(2025, 3, 6, 8, 0),
        "brand": "acme",
        "rating": None,
    }


def test_otzovik_broken_review_page_raises_a_clear_broken_payload() -> None:
    with pytest.raises(BrokenPayload) as caught:
        _otzovik(1004)
    assert caught.value.collector == "review:otzovik.com"
    assert caught.value.message == f"{OTZ}/review_1004.html: no review body"


def test_otzovik_page_that_is_not_a_list_is_broken() -> None:
    with pytest.raises(BrokenPayload, match="no review list"):
        otzovik.parse_list_page(_page("otzovik", "review_1003.html"), f"{OTZ}/reviews/magazin_acme/", NOW)


# -- irecommend.ru -----------------------------------------------------------------------------


def test_irecommend_list_pages_and_drupal_paging() -> None:
    first = irecommend.parse_list_page(
        _page("irecommend", "list_p1.html"), f"{IREC}/content/magazin-acme", NOW
    )
    assert first.teasers == (
        ReviewTeaser(
            f"{IREC}/content/kurer-poteryal-posylku",
            f"{IREC}/content/kurer-poteryal-posylku",
            _utc(2025, 3, 14, 6, 15),
        ),
        ReviewTeaser(
            f"{IREC}/content/vernuli-ne-vse-dengi",
            f"{IREC}/content/vernuli-ne-vse-dengi",
            _utc(2025, 3, 13, 18, 40),
        ),
    )
    assert first.next_url == f"{IREC}/content/magazin-acme?page=1"
    last = irecommend.parse_list_page(
        _page("irecommend", "list_p2.html"), f"{IREC}/content/magazin-acme?page=1", NOW
    )
    slug = f"{IREC}/content/khoroshii-magazin-no-dolgaya-dostavka"
    assert last.teasers == (ReviewTeaser(slug, slug, _utc(2025, 3, 2, 9, 30)),)
    assert last.next_url is None


def _irecommend(number: int, slug: str) -> list[Mention]:
    url = f"{IREC}/content/{slug}"
    page = _page("irecommend", f"review_{number}.html")
    return irecommend.parse_review_page(page, url, NOW).to_mentions("irecommend.ru", "acme")


def test_irecommend_review_with_official_answer_dated_yesterday() -> None:
    review, answer = _irecommend(7004, "kurer-poteryal-posylku")
    assert _fields(review) == {
        "source": "review:irecommend.ru",
        "external_id": "7004",
        "thread_key": "review:irecommend.ru:7004",
        "parent_external_id": None,
        "url": f"{IREC}/content/kurer-poteryal-posylku",
        "author": Author(id="marina-k", name="Марина К.", url=f"{IREC}/users/marina-k").model_dump(),
        "text": "Курьер потерял посылку\n\n"
        "Ждала посылку неделю, а потом в трекинге написали «утеряна».\n"
        "В чате поддержки предлагают ждать ещё 10 дней.\n"
        "Достоинства: Цены\nНедостатки: Доставка, Поддержка\nОбщее впечатление: Не рекомендую",
        "created_at": _utc(2025, 3, 14, 6, 15),
        "brand": "acme",
        "rating": 2.0,
    }
    assert _fields(answer) == {
        "source": "review:irecommend.ru",
        "external_id": "7004-answer-88001",
        "thread_key": "review:irecommend.ru:7004",
        "parent_external_id": "7004",
        "url": f"{IREC}/content/kurer-poteryal-posylku#comment-88001",
        "author": Author(
            id="acme-official",
            name="Acme (официальный представитель)",
            url=f"{IREC}/users/acme-official",
            is_brand=True,
        ).model_dump(),
        "text": "Марина, здравствуйте!\nПосылку нашли на складе, доставим завтра с 10 до 14.",
        "created_at": _utc(2025, 3, 14, 15, 40),
        "brand": "acme",
        "rating": None,
    }


def test_irecommend_review_without_metadata_falls_back_to_shown_date_and_star_class() -> None:
    (review,) = _irecommend(7002, "khoroshii-magazin-no-dolgaya-dostavka")
    assert _fields(review) == {
        "source": "review:irecommend.ru",
        "external_id": "7002",
        "thread_key": "review:irecommend.ru:7002",
        "parent_external_id": None,
        "url": f"{IREC}/content/khoroshii-magazin-no-dolgaya-dostavka",
        "author": Author(id="lena.v", name="lena.v", url=f"{IREC}/users/lena.v").model_dump(),
        "text": "Хороший магазин, но долгая доставка\n\n"
        "Заказываю тут технику давно. Всё оригинальное, но доставка в регионы идёт по две недели.\n"
        "Общее впечатление: Рекомендую",
        "created_at": _utc(2025, 3, 2, 9, 30),
        "brand": "acme",
        "rating": 8.0,
    }


def test_irecommend_captcha_stub_is_a_broken_payload() -> None:
    with pytest.raises(BrokenPayload) as caught:
        _irecommend(7003, "vernuli-ne-vse-dengi")
    assert caught.value.collector == "review:irecommend.ru"
    assert caught.value.message == (
        f"{IREC}/content/vernuli-ne-vse-dengi: no review block (layout changed or a captcha page?)"
    )


# -- RSS / Atom -----------------------------------------------------------------------------------

FEED = "https://reviews.example/feeds/acme.xml"


def test_rss_feed_entries_and_the_one_without_a_date_reported() -> None:
    mentions, broken = parse_feed((FIXTURES / "rss" / "feed.xml").read_bytes(), FEED, "acme")
    assert [_fields(m) for m in mentions] == [
        {
            "source": "review:reviews.example",
            "external_id": "https://reviews.example/acme/r/501",
            "thread_key": "review:reviews.example:https://reviews.example/acme/r/501",
            "parent_external_id": None,
            "url": "https://reviews.example/acme/r/501",
            "author": Author(id="Кирилл", name="Кирилл").model_dump(),
            "text": "Не пришёл возврат\n\nЖду возврат за наушники три недели.\nПоддержка молчит.",
            "created_at": _utc(2025, 3, 14, 13, 45),
            "brand": "acme",
            "rating": None,
        },
        {
            "source": "review:reviews.example",
            "external_id": "https://reviews.example/acme/r/502",
            "thread_key": "review:reviews.example:https://reviews.example/acme/r/502",
            "parent_external_id": None,
            "url": "https://reviews.example/acme/r/502",
            "author": Author(id="Света", name="Света").model_dump(),
            "text": "Быстрая доставка\n\nПривезли на следующий день, всё целое.",
            "created_at": _utc(2025, 3, 12, 8, 0),
            "brand": "acme",
            "rating": None,
        },
        {
            "source": "review:reviews.example",
            "external_id": "https://reviews.example/acme/r/500",
            "thread_key": "review:reviews.example:https://reviews.example/acme/r/500",
            "parent_external_id": None,
            "url": "https://reviews.example/acme/r/500",
            "author": Author(id="Кирилл", name="Кирилл").model_dump(),
            "text": "Старый отзыв\n\nПервый заказ, всё хорошо.",
            "created_at": _utc(2025, 3, 10, 7, 0),
            "brand": "acme",
            "rating": None,
        },
    ]
    assert [b.message for b in broken] == [
        f"{FEED} entry 3: https://reviews.example/acme/r/503: no publication date"
    ]


def test_rss_earlier_feed() -> None:
    mentions, broken = parse_feed((FIXTURES / "rss" / "feed_early.xml").read_bytes(), FEED, "acme")
    assert [m.external_id for m in mentions] == [
        "https://reviews.example/acme/r/502",
        "https://reviews.example/acme/r/500",
    ]
    assert broken == []


def test_atom_feed_entries() -> None:
    mentions, broken = parse_feed((FIXTURES / "rss" / "atom.xml").read_bytes(), FEED, None)
    assert [_fields(m) for m in mentions] == [
        {
            "source": "review:reviews.example",
            "external_id": "tag:reviews.example,2025:review-9001",
            "thread_key": "review:reviews.example:tag:reviews.example,2025:review-9001",
            "parent_external_id": None,
            "url": "https://reviews.example/acme/r/9001",
            "author": Author(id="Пётр", name="Пётр", url="https://reviews.example/u/petr").model_dump(),
            "text": "Сломался через месяц\n\n"
            "Чайник перестал греть через месяц.\nГарантийный ремонт — 45 дней.",
            "created_at": _utc(2025, 3, 14, 11, 30),
            "brand": None,
            "rating": None,
        },
        {
            "source": "review:reviews.example",
            "external_id": "tag:reviews.example,2025:review-9000",
            "thread_key": "review:reviews.example:tag:reviews.example,2025:review-9000",
            "parent_external_id": None,
            "url": "https://reviews.example/acme/r/9000",
            "author": Author(id="anonymous").model_dump(),
            "text": "Вежливый курьер\n\nВсё вовремя, спасибо.",
            "created_at": _utc(2025, 3, 13, 4, 15),
            "brand": None,
            "rating": None,
        },
    ]
    assert broken == []


def test_a_document_that_is_not_a_feed_is_broken() -> None:
    with pytest.raises(BrokenPayload, match=r"https://reviews.example/feeds/acme.xml: not a feed"):
        parse_feed((FIXTURES / "rss" / "broken.xml").read_bytes(), FEED)


# -- registry ---------------------------------------------------------------------------------------


def test_registry_builds_one_adapter_per_site() -> None:
    client = PoliteClient()
    otz = build_review_collector("otzovik.com", f"{OTZ}/reviews/magazin_acme/", client, "acme")
    irec = build_review_collector("irecommend.ru", f"{IREC}/content/magazin-acme", client, "acme")
    feed = build_review_collector("rss", FEED, client, "acme")
    assert isinstance(otz, OtzovikCollector) and otz.name == "review:otzovik.com"
    assert isinstance(irec, IrecommendCollector) and irec.name == "review:irecommend.ru"
    assert isinstance(feed, RssCollector) and feed.name == "review:reviews.example"
    assert set(REVIEW_ADAPTERS) == {"otzovik.com", "irecommend.ru", "rss"}
    with pytest.raises(ValueError, match=r"unknown review site 'yandex\.ru'"):
        build_review_collector("yandex.ru", "https://yandex.ru/", client, "acme")
