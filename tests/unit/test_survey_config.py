"""Survey configuration, question templates and the follow-up deadline (pure parts)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from core.brands import ConfigError, parse_config
from core.settings import Settings
from desk.services.clocks import BusinessCalendar
from desk.services.satisfaction import SurveyRecord, summarise
from desk.services.survey_followups import end_of_business_day, is_low
from desk.services.survey_kpis import SatisfactionRow, summary_line, with_satisfaction
from desk.services.survey_questions import question_lang, question_text
from desk.services.surveys import SurveyPolicy

MOSCOW = BusinessCalendar(
    tz="Europe/Moscow", day_start=time(9, 0), day_end=time(18, 0), holidays=frozenset({date(2026, 11, 4)})
)


def test_modes_per_brand_and_channel_review_sites_never() -> None:
    config = parse_config(
        {
            "brands": [
                {"name": "acme", "survey": {"vk": "csat", "twitter": "both"}},
                {"name": "globex", "survey": {"twitter": "nps"}},
                {"name": "initech"},
            ]
        }
    )
    settings = Settings(survey_author_cooldown_days=7, survey_answer_window_h=24)
    policy = SurveyPolicy.from_config(config, settings)
    assert policy.mode("acme", "vk") == "csat"
    assert policy.mode("acme", "twitter") == "both"
    assert policy.mode("acme", "review:otzovik.com") == "off"
    assert policy.mode("acme", "replay") == "off"
    assert policy.mode("globex", "vk") == "off"
    assert policy.mode("globex", "twitter") == "nps"
    assert policy.mode("initech", "twitter") == "off"
    assert policy.mode(None, "vk") == "off"
    assert policy.mode("unknown", "vk") == "off"
    assert policy.author_cooldown.days == 7
    assert policy.answer_window.total_seconds() == 24 * 3600


def test_defaults_and_refused_modes() -> None:
    settings = Settings()
    assert settings.survey_author_cooldown_days == 30
    assert settings.survey_answer_window_h == 72
    assert SurveyPolicy.from_config(None, settings).mode("acme", "vk") == "off"
    config = parse_config({"brands": [{"name": "acme"}]})
    assert config.brands[0].targets.csat == pytest.approx(0.9)
    assert config.brands[0].targets.nps == pytest.approx(44)
    with pytest.raises(ConfigError, match="survey"):
        parse_config({"brands": [{"name": "acme", "survey": {"vk": "sometimes"}}]})
    with pytest.raises(ConfigError, match="survey"):
        parse_config({"brands": [{"name": "acme", "survey": {"otzovik": "csat"}}]})


def test_questions_short_polite_and_in_the_threads_language() -> None:
    assert question_lang("ru") == "ru"
    assert question_lang(None) == "ru"
    assert question_lang("en") == "en"
    assert question_lang("de") == "en"
    for lang in ("ru", "en"):
        for kind in ("csat", "nps", "both"):
            text = question_text(kind, lang)
            assert len(text) <= 280, "fits one X reply"
    assert "от 1 до 5" in question_text("csat", "ru")
    assert "от 0 до 10" in question_text("nps", "ru")
    assert "1 to 5" in question_text("csat", "en") and "0 to 10" in question_text("both", "en")
    assert question_text("csat", "ru").startswith("Спасибо")


def test_low_scores() -> None:
    assert [is_low(c, None) for c in range(1, 6)] == [True, True, True, False, False]
    assert [is_low(None, n) for n in range(11)] == [True] * 7 + [False] * 4
    assert not is_low(None, None)
    assert is_low(5, 3) and is_low(2, 10)


@pytest.mark.parametrize(
    ("at", "due"),
    [
        # Tuesday 10:00 MSK: the end of that day
        (datetime(2026, 11, 17, 7, 0, tzinfo=UTC), datetime(2026, 11, 17, 15, 0, tzinfo=UTC)),
        # Tuesday before opening (07:00 MSK): still that day
        (datetime(2026, 11, 17, 4, 0, tzinfo=UTC), datetime(2026, 11, 17, 15, 0, tzinfo=UTC)),
        # Tuesday 19:00 MSK, after hours: the end of Wednesday
        (datetime(2026, 11, 17, 16, 0, tzinfo=UTC), datetime(2026, 11, 18, 15, 0, tzinfo=UTC)),
        # Friday 18:30 MSK: the end of Monday
        (datetime(2026, 11, 20, 15, 30, tzinfo=UTC), datetime(2026, 11, 23, 15, 0, tzinfo=UTC)),
        # Saturday: Monday
        (datetime(2026, 11, 21, 9, 0, tzinfo=UTC), datetime(2026, 11, 23, 15, 0, tzinfo=UTC)),
        # the holiday (Wednesday 4 November): Thursday
        (datetime(2026, 11, 4, 9, 0, tzinfo=UTC), datetime(2026, 11, 5, 15, 0, tzinfo=UTC)),
    ],
)
def test_a_follow_up_is_due_the_same_business_day(at: datetime, due: datetime) -> None:
    assert end_of_business_day(MOSCOW, at) == due


def test_the_kpi_rows_get_each_groups_survey_figures() -> None:
    def record(i: int, agent: str, csat: int | None, answered: bool = True) -> SurveyRecord:
        at = datetime(2026, 11, 17, 10, i, tzinfo=UTC)
        return SurveyRecord(i, i, "acme", "vk", agent, "support", at, at if answered else None, csat, None)

    records = [
        record(1, "anna", 5),
        record(2, "anna", 2),
        record(3, "anna", None, False),
        record(4, "olga", 4),
    ]
    rows = [
        SatisfactionRow("anna", summarise([r for r in records if r.agent == "anna"]), 0.9, 44.0),
        SatisfactionRow("olga", summarise([r for r in records if r.agent == "olga"]), 0.9, 44.0),
    ]
    kpis = [{"agent": "anna", "cases": 3}, {"agent": "boris", "cases": 1}]
    merged = with_satisfaction(kpis, rows, "agent")
    assert [r["agent"] for r in merged] == ["anna", "boris", "olga"]
    anna, boris, olga = merged
    assert (anna["cases"], anna["surveys_asked"], anna["surveys_answered"]) == (3, 3, 2)
    assert anna["response_rate"] == pytest.approx(2 / 3) and anna["csat"] == pytest.approx(0.5)
    assert anna["csat_met"] is False and anna["low_scores"] == 1
    assert boris["surveys_asked"] is None, "no survey: empty cells"
    assert (olga["cases"], olga["surveys_asked"], olga["csat"], olga["csat_met"]) == (None, 1, 1.0, True)
    line = summary_line(SatisfactionRow("", summarise(records), 0.9, 44.0))
    assert line == "CSAT 67% (target 90%) · NPS – (target 44) · response rate 75% (3 of 4 surveys answered)"
