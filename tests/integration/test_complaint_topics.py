"""The digest's complaint topics: negative mentions clustered on the real model's embeddings."""

from desk.services.complaints import complaint_topics
from mentiondesk.wiring import model_embedder

DELIVERY = [
    "Курьер опять не приехал, доставка сорвана второй раз",
    "Доставка задерживается уже неделю, курьер не отвечает",
    "Где мой заказ? Доставка обещана вчера, курьера нет",
    "Курьер привёз заказ на три дня позже, доставка ужасная",
    "Опять перенесли доставку, курьер даже не позвонил",
    "Доставка хуже некуда: курьер потерял посылку",
    "Курьер не дождался и увёз заказ обратно, доставка провалена",
    "Третий раз переносят доставку, курьеры не приходят",
]
APP = [
    "The app crashes every time I open my account page",
    "Your app keeps crashing after the update, I cannot log in",
    "App crashed again while paying, I was charged and got nothing",
    "Login in the app is broken since yesterday's update",
    "The mobile app freezes and crashes on start",
    "After the latest update the app crashes constantly",
    "Cannot use the app at all, it crashes on the login screen",
    "App update broke everything, crashes on every screen",
]


def test_negative_mentions_split_into_their_complaint_topics() -> None:
    embed = model_embedder()
    assert embed is not None, "the built-in model must provide embeddings"
    topics = complaint_topics(DELIVERY + APP, embed, max_topics=2)

    assert sorted(t.size for t in topics) == [8, 8]
    for topic in topics:
        theme = DELIVERY if topic.examples[0] in DELIVERY else APP
        assert all(example in theme for example in topic.examples), topic
    names = " ".join(t.name for t in topics)
    assert any(word in names for word in ("доставка", "курьер", "доставку"))
    assert any(word in names for word in ("app", "crashes", "update"))
