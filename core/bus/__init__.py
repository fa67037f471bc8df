"""The Kafka bus: where the broker is, the one producer, topic helpers."""
