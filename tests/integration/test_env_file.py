"""Which .env the commands read: the working directory's, or the one MENTIONDESK_ENV_FILE names
(the test suite's own processes read none, so a developer's tokens never reach a test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.settings import ENV_FILE_VARIABLE


def _partitions_in_force(cwd: Path, env: dict[str, str]) -> str:
    shown = subprocess.run(
        [sys.executable, "-m", "mentiondesk.cli", "config"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    [line] = [line for line in shown.splitlines() if line.startswith("MD_TOPIC_PARTITIONS")]
    return line.split()[-1]


def test_the_working_directorys_env_file_is_read_unless_another_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MD_TOPIC_PARTITIONS=7\n", encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MD_") and k != ENV_FILE_VARIABLE}
    assert os.environ[ENV_FILE_VARIABLE] == os.devnull, "the suite itself reads no .env"

    assert _partitions_in_force(tmp_path, clean) == "7"
    assert _partitions_in_force(tmp_path, {**clean, ENV_FILE_VARIABLE: os.devnull}) == "4"
    other = tmp_path / "staging.env"
    other.write_text("MD_TOPIC_PARTITIONS=12\n", encoding="utf-8")
    assert _partitions_in_force(tmp_path, {**clean, ENV_FILE_VARIABLE: str(other)}) == "12"
