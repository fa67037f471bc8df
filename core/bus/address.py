"""Where the Kafka broker is: the configured one, or the embedded one on 127.0.0.1."""

from core.settings import Settings


def bootstrap_servers(settings: Settings) -> str:
    return settings.kafka_bootstrap or f"127.0.0.1:{settings.broker_port}"
