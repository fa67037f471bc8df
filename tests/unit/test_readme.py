"""The README is the user's door: it must name every setting and every CLI command."""

from pathlib import Path

import typer.main

from core.settings import Settings
from mentiondesk.cli import app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")


def test_every_setting_is_documented() -> None:
    missing = [f"MD_{name.upper()}" for name in Settings.model_fields if f"MD_{name.upper()}" not in README]
    assert not missing, f"README does not document {missing}"


def test_every_command_is_documented() -> None:
    group = typer.main.get_command(app)
    names = list(getattr(group, "commands", {}))
    missing = [name for name in names if f"mentiondesk {name}" not in README]
    assert not missing, f"README does not show {missing}"
