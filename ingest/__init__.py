"""Collectors: they fetch mentions from the networks and know nothing of Kafka (but producer.py)."""
