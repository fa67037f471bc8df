"""The fast path's export cache keeps the newest exports and the one in use, and drops the rest."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sentiment.onnx_export import DONE_MARKER, GRAPH_FILE, prune_exports, read_export


def _fake_export(folder: Path, version: str, built_at: float) -> Path:
    path = folder / version
    path.mkdir(parents=True)
    (path / GRAPH_FILE).write_bytes(b"graph")
    marker = path / DONE_MARKER
    marker.write_text(json.dumps({"model_version": version, "precision": "fp32"}), "utf-8")
    os.utime(marker, (built_at, built_at))
    return path


def test_only_the_newest_exports_and_the_one_in_use_are_kept(tmp_path: Path) -> None:
    exports = [_fake_export(tmp_path, f"v{i}", 1_000_000 + i) for i in range(5)]
    staging = tmp_path / ".v9.partial"
    staging.mkdir()
    unfinished = tmp_path / "v8"
    unfinished.mkdir()  # no marker: an export being written by another process is left alone

    removed = prune_exports(tmp_path, keep=exports[0], newest=2)

    assert sorted(p.name for p in removed) == ["v1", "v2"]
    assert [read_export(p) is not None for p in exports] == [True, False, False, True, True]
    assert staging.is_dir() and unfinished.is_dir()
