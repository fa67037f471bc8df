"""The one Faust app, built from the settings by the command that runs it (importing does no work)."""

from __future__ import annotations

from core.bus.address import bootstrap_servers
from core.settings import DEFAULT_VAR_DIR, Settings
from sentiment.kafka_transport import LowLatencyApp


def create_app(settings: Settings) -> LowLatencyApp:
    """The worker's app: one consumer group (`MD_WORKER_ID`) shared by every worker. Faust's data
    folder goes under var/ (it holds nothing: tables live in memory), not `<id>-data/` in the cwd."""
    datadir = DEFAULT_VAR_DIR / "faust" / settings.worker_id
    datadir.parent.mkdir(parents=True, exist_ok=True)
    return LowLatencyApp(
        settings.worker_id,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        broker=f"kafka://{bootstrap_servers(settings)}",
        store="memory://",
        datadir=str(datadir),
        autodiscover=False,
        web_enabled=False,
        topic_partitions=settings.topic_partitions,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.kafka_session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.kafka_session_timeout_s / 3),
        broker_commit_every=500,
        broker_commit_interval=1.0,
        producer_acks=-1,
        stream_wait_empty=False,
    )
