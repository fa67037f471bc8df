"""Production mode (MD_ENVIRONMENT=production): the unsafe set-ups every service refuses, each with
its own message, all listed together; and the refusal through the real `mentiondesk up`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from core.production import refusal_text, unsafe_reasons
from core.settings import Settings
from mentiondesk.broker import free_port
from mentiondesk.runtime import desk_command, desk_url, wait_http_ok
from tests.support import PROJECT_ROOT, run_cli

SAFE_URL = "postgresql+psycopg://mentiondesk:k3J9-vQ2x_Lm8RtZ@db.internal:5432/mentiondesk"


def _settings(**changes: Any) -> Settings:
    """A safe production set-up, changed by `changes`; nothing read from the environment or .env."""
    values: dict[str, Any] = {
        "environment": "production",
        "database_url": SAFE_URL,
        "kafka_bootstrap": "kafka:9092",
        "desk_host": "127.0.0.1",
        "desk_tls_cert": None,
        "desk_tls_key": None,
        "desk_behind_tls_proxy": False,
        "vk_token": None,
        "vk_post_token": None,
        "twitter_bearer_token": None,
        "twitter_consumer_key": None,
        "twitter_consumer_secret": None,
        "twitter_access_token": None,
        "twitter_access_token_secret": None,
    }
    values.update(changes)
    return Settings(_env_file=None, **values)


def test_a_safe_production_set_up_starts() -> None:
    assert unsafe_reasons(_settings()) == []


def test_development_allows_everything() -> None:
    unsafe = _settings(environment="development", database_url="sqlite:///x.db", kafka_bootstrap=None)
    assert unsafe_reasons(unsafe) == []


def test_sqlite_is_refused() -> None:
    reasons = unsafe_reasons(_settings(database_url="sqlite:////var/mentiondesk.db"))
    assert len(reasons) == 1
    assert reasons[0].startswith("MD_DATABASE_URL is SQLite: production needs PostgreSQL")


@pytest.mark.parametrize("bootstrap", [None, "", "  "])
def test_the_embedded_broker_is_refused(bootstrap: str | None) -> None:
    reasons = unsafe_reasons(_settings(kafka_bootstrap=bootstrap))
    assert len(reasons) == 1
    assert reasons[0].startswith("MD_KAFKA_BOOTSTRAP is not set: `up` would start the embedded broker")
    assert "production must name a Kafka broker" in reasons[0]


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "desk.example.org"])
def test_a_desk_beyond_loopback_without_tls_is_refused(host: str) -> None:
    reasons = unsafe_reasons(_settings(desk_host=host))
    assert len(reasons) == 1
    assert reasons[0].startswith(f"the desk listens on {host} without TLS")
    assert "MD_DESK_TLS_CERT" in reasons[0] and "MD_DESK_BEHIND_TLS_PROXY=true" in reasons[0]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_a_loopback_desk_needs_no_tls(host: str) -> None:
    assert unsafe_reasons(_settings(desk_host=host)) == []


def test_an_exposed_desk_with_its_own_certificate_or_behind_a_tls_proxy_is_accepted() -> None:
    with_tls = _settings(
        desk_host="0.0.0.0", desk_tls_cert=Path("/tls/cert.pem"), desk_tls_key=Path("/k.pem")
    )
    assert unsafe_reasons(with_tls) == []
    assert unsafe_reasons(_settings(desk_host="0.0.0.0", desk_behind_tls_proxy=True)) == []


def test_a_certificate_without_its_key_is_refused() -> None:
    reasons = unsafe_reasons(_settings(desk_host="0.0.0.0", desk_tls_cert=Path("/tls/cert.pem")))
    assert reasons == ["MD_DESK_TLS_CERT and MD_DESK_TLS_KEY go together: set both or neither"]


@pytest.mark.parametrize("password", ["short1", "elevenchars"])
def test_a_short_database_password_is_refused(password: str) -> None:
    url = f"postgresql+psycopg://mentiondesk:{password}@db:5432/mentiondesk"
    reasons = unsafe_reasons(_settings(database_url=url))
    assert reasons == [
        f"MD_DATABASE_URL's password has {len(password)} characters: production needs at least 12 "
        "(a random one)"
    ]


@pytest.mark.parametrize("password", ["postgres", "password", "changeme", "CHANGEME", "123456789012"])
def test_a_well_known_database_password_is_refused(password: str) -> None:
    url = f"postgresql+psycopg://mentiondesk:{password}@db:5432/mentiondesk"
    reasons = unsafe_reasons(_settings(database_url=url))
    assert reasons == [f"MD_DATABASE_URL uses a well-known default password ({password!r}): set a random one"]


def test_a_twelve_character_random_password_is_accepted() -> None:
    url = "postgresql+psycopg://mentiondesk:q8Vt-2mZr_Kw@db:5432/mentiondesk"
    assert unsafe_reasons(_settings(database_url=url)) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("vk_post_token", "your-vk-community-token"),
        ("vk_token", "example"),
        ("twitter_consumer_secret", "<consumer secret>"),
        ("twitter_access_token", "xxxxxxxxxxxxxxxx"),
        ("twitter_access_token_secret", "changeme"),
    ],
)
def test_posting_tokens_left_at_example_values_are_refused(name: str, value: str) -> None:
    reasons = unsafe_reasons(_settings(**{name: SecretStr(value)}))
    assert reasons == [f"MD_{name.upper()} holds an example value, not a real token: set the issued one"]


def test_real_looking_and_unset_tokens_are_accepted() -> None:
    settings = _settings(
        vk_post_token=SecretStr("vk1.a.Qm9vYXJkZ2FtZXNfYXJlX2Z1bg_8fK2"), twitter_access_token=SecretStr("")
    )
    assert unsafe_reasons(settings) == []


def test_every_problem_is_listed_together() -> None:
    settings = _settings(
        database_url="sqlite:///var/x.db",
        kafka_bootstrap=None,
        desk_host="0.0.0.0",
        vk_post_token=SecretStr("changeme"),
    )
    reasons = unsafe_reasons(settings)
    assert [r.split(" ", 1)[0] for r in reasons] == [
        "MD_DATABASE_URL",
        "MD_KAFKA_BOOTSTRAP",
        "the",
        "MD_VK_POST_TOKEN",
    ]
    text = refusal_text(reasons)
    assert text.splitlines()[0] == (
        "refusing to start in production (MD_ENVIRONMENT=production): 4 unsafe setting(s)"
    )
    assert text.splitlines()[1:] == [f"  - {reason}" for reason in reasons]


def test_the_desk_serves_tls_with_its_certificate() -> None:
    settings = _settings(desk_tls_cert=Path("/tls/cert.pem"), desk_tls_key=Path("/tls/key.pem"))
    command = desk_command(settings)
    assert command[command.index("--server.sslCertFile") + 1] == "/tls/cert.pem"
    assert command[command.index("--server.sslKeyFile") + 1] == "/tls/key.pem"
    assert desk_url(settings) == "https://127.0.0.1:8501"
    plain = desk_command(_settings())
    assert "--server.sslCertFile" not in plain and desk_url(_settings()) == "http://127.0.0.1:8501"


def test_up_refuses_an_unsafe_production_set_up_before_starting_anything(tmp_path: Path) -> None:
    database = tmp_path / "prod.db"
    result = run_cli(
        "up",
        env={
            "MD_ENVIRONMENT": "production",
            "MD_DATABASE_URL": f"sqlite:///{database}",
            "MD_DESK_HOST": "0.0.0.0",
            "MD_VK_POST_TOKEN": "your-vk-community-token",
        },
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "error: refusing to start in production (MD_ENVIRONMENT=production): 4 unsafe setting(s)"
    )
    assert [line.split(" ", 4)[3] for line in lines[1:5]] == [
        "MD_DATABASE_URL",
        "MD_KAFKA_BOOTSTRAP",
        "the",
        "MD_VK_POST_TOKEN",
    ]
    assert "mentiondesk is starting" not in result.stdout  # no broker, no child, no database
    assert not database.exists()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")
def test_the_desk_answers_over_https_with_its_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    kept = ("MD_MODEL_CACHE_DIR", "MD_DATA_DIR")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MD_") or k in kept}
    env.update(
        MD_DATABASE_URL=f"sqlite:///{tmp_path / 'desk.db'}",
        MD_DESK_PORT=str(port),
        MD_DESK_TLS_CERT=str(cert),
        MD_DESK_TLS_KEY=str(key),
    )
    desk = subprocess.Popen(
        [sys.executable, "-m", "mentiondesk.cli", "desk"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert wait_http_ok(f"https://127.0.0.1:{port}/_stcore/health", timeout=90)
        with pytest.raises(OSError):  # plain HTTP gets no answer from a TLS socket
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5)
    finally:
        os.killpg(desk.pid, signal.SIGTERM)
        desk.wait(timeout=30)


@pytest.mark.parametrize(
    "command", [["worker"], ["desk"], ["collect"], ["publisher"], ["digest", "--schedule"]], ids=" ".join
)
def test_every_service_command_refuses_the_same_way(command: list[str], tmp_path: Path) -> None:
    result = run_cli(
        *command,
        env={"MD_ENVIRONMENT": "production", "MD_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"},
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[:3] == [
        "error: refusing to start in production (MD_ENVIRONMENT=production): 2 unsafe setting(s)",
        "  - " + unsafe_reasons(_settings(database_url="sqlite:///x.db"))[0],
        "  - " + unsafe_reasons(_settings(kafka_bootstrap=None))[0],
    ]
    assert not (tmp_path / "x.db").exists(), "refused before touching the database"
