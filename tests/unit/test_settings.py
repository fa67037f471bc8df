import pytest
from typer.testing import CliRunner

from core.settings import Settings, get_settings
from mentiondesk.cli import app


def test_environment_overrides_and_secrets_are_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MD_DATABASE_URL", "postgresql://desk:s3cret@db.example:5432/md")
    monkeypatch.setenv("MD_VK_TOKEN", "vk1.a.very-secret")
    monkeypatch.setenv("MD_BATCH_SIZE", "16")
    settings = Settings()
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.batch_size == 16
    view = settings.public_view()
    assert "s3cret" not in view["database_url"] and "db.example" in view["database_url"]
    assert view["vk_token"] == "**********"

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["config"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0
    assert "MD_BATCH_SIZE" in result.output and "16" in result.output
    assert "very-secret" not in result.output and "s3cret" not in result.output


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MD_BATCH_SIZE", "0")
    with pytest.raises(ValueError, match="batch_size"):
        Settings()
