"""Retrained models on disk and which one is in force.

`model retrain` writes each candidate into `<model_dir>/<version>/` (the model file and the report
that compared it with the model it would replace) and, only when it is not worse, points
`<model_dir>/active.json` at it. Workers read the pointer when they load the model, so a restart
picks the new model up; `activate_committed` goes back to the model shipped in the repository.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ACTIVE = "active.json"
MODEL_NAME = "model.safetensors"


@dataclass(frozen=True)
class ModelRegistry:
    folder: Path

    @property
    def pointer(self) -> Path:
        return self.folder / ACTIVE

    def active_file(self) -> Path | None:
        """The retrained model in force, or None for the committed one."""
        if not self.pointer.is_file():
            return None
        entry = json.loads(self.pointer.read_text("utf-8"))
        path = Path(entry["path"])
        if not path.is_absolute():
            path = self.folder / path
        if not path.is_file():
            raise FileNotFoundError(f"{self.pointer} names {path}, which is missing")
        return path

    def candidate_dir(self, version: str) -> Path:
        folder = self.folder / version
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def activate(self, model_file: Path, version: str, report: dict[str, Any] | None = None) -> None:
        """Point the registry at `model_file` (atomically: a reader sees the old or the new one)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            path = str(model_file.resolve().relative_to(self.folder.resolve()))
        except ValueError:
            path = str(model_file.resolve())
        entry = {
            "path": path,
            "version": version,
            "activated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "report": report or {},
        }
        tmp = self.pointer.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entry, indent=2) + "\n", "utf-8")
        tmp.replace(self.pointer)

    def activate_committed(self) -> None:
        """Go back to the model shipped in the repository."""
        self.pointer.unlink(missing_ok=True)
