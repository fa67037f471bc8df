"""The worker's assembly: what it needs handed in, and the one list of agent modules it runs.

Faust's autodiscovery is off; every module that defines agents is listed in AGENT_MODULES and
registers them on the app it is given, so nothing depends on which modules happen to be imported
(a test fails when an agent module is missing from the list).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Final

import faust
from sqlalchemy.orm import Session, sessionmaker

from core.brands import BrandsConfig
from core.settings import Settings
from sentiment import agents, alert_agents
from sentiment.app import create_app
from sentiment.model import NegativityModel
from sentiment.persistence import AfterSave
from sentiment.scored_feed import ScoredFeed
from sentiment.topics import WorkerTopics

AGENT_MODULES: Final[tuple[ModuleType, ...]] = (agents, alert_agents)


@dataclass(frozen=True, slots=True)
class WorkerDeps:
    """Everything the agents use, built by the `worker` command before the worker joins its group."""

    settings: Settings
    model: NegativityModel
    sessions: sessionmaker[Session]
    brands: BrandsConfig | None = None
    after_save: AfterSave | None = None  # the desk's routing pass, handed in by the wiring
    scored_feed: ScoredFeed = field(default_factory=ScoredFeed)  # stored batches, to the spike detector


def build_worker_app(deps: WorkerDeps) -> faust.App:
    """The Faust app with every agent of AGENT_MODULES registered on it."""
    app = create_app(deps.settings)
    topics = WorkerTopics.of(app)
    for module in AGENT_MODULES:
        module.register(app, topics, deps)
    return app
