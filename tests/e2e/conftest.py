"""The browser tests use the integration tests' real broker and worker fixtures."""

from tests.integration.conftest import broker, start_worker

__all__ = ["broker", "start_worker"]
