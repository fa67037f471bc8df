"""The worker runs every agent the code defines: agent modules are listed in one place
(sentiment.worker.AGENT_MODULES), and a module that defines agents but is missing from the list
fails here instead of silently never consuming its topic."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import faust
import pytest

import sentiment
from core.db.engine import make_engine, make_session_factory
from core.settings import Settings
from schemas import topics
from sentiment.agents import SCORE_ACTORS, agent_take
from sentiment.kafka_transport import CommitFloorConsumer
from sentiment.model import load_model
from sentiment.worker import AGENT_MODULES, WorkerDeps, build_worker_app


def _modules_defining_agents() -> set[str]:
    found = set()
    for info in pkgutil.walk_packages(sentiment.__path__, "sentiment."):
        path = Path(sentiment.__path__[0], *info.name.split(".")[1:])
        source = path.with_suffix(".py")
        if source.is_file():
            text = source.read_text("utf-8")
            if ".agent(" in text or ".timer(" in text:
                found.add(info.name)
    return found


def test_every_module_that_defines_agents_is_registered() -> None:
    listed = {module.__name__ for module in AGENT_MODULES}
    assert _modules_defining_agents() == listed
    assert all(callable(getattr(module, "register", None)) for module in AGENT_MODULES)


@pytest.fixture(scope="module")
def worker_app(tmp_path_factory: pytest.TempPathFactory) -> faust.App:
    """The worker's Faust app as `mentiondesk worker` builds it (agents registered, not started)."""
    folder = tmp_path_factory.mktemp("worker")
    settings = Settings(database_url=f"sqlite:///{folder}/w.db", config=None)
    engine = make_engine(settings.database_url)
    try:
        deps = WorkerDeps(
            settings=settings, model=load_model(settings), sessions=make_session_factory(engine)
        )
        return build_worker_app(deps)
    finally:
        engine.dispose()


def test_the_built_worker_consumes_every_topic_of_the_stream(worker_app: faust.App) -> None:
    consumed = {name: set(agent.channel.topics) for name, agent in worker_app.agents.items()}
    assert consumed == {
        "score_agent": {topics.MENTIONS_RAW},
        "alert_store_agent": {topics.ALERTS},
    }


def test_two_score_agents_on_a_consumer_that_commits_below_what_is_in_process(
    worker_app: faust.App,
) -> None:
    """Two agents keep the model busy while the other's scores go out; they finish out of order, so
    the worker's consumer must hold each partition's commit below its first offset in process (the
    kill, SIGTERM and database outage tests run this worker)."""
    assert worker_app.agents["score_agent"].concurrency == SCORE_ACTORS == 2
    assert isinstance(worker_app.consumer, CommitFloorConsumer)


@pytest.mark.parametrize("batch_take", [1, 2, 5, 64, 128, 129])
def test_the_agents_share_the_take_so_a_worker_holds_at_most_about_one_take(batch_take: int) -> None:
    """A SIGTERM waits for the takes in hand: together they are MD_BATCH_TAKE, rounded up per agent."""
    share = agent_take(batch_take)
    assert share >= 1
    assert batch_take <= share * SCORE_ACTORS < batch_take + SCORE_ACTORS
