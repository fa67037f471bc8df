"""Model files are written whole and read back as they were meant, whatever the arrays' memory order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors import SafetensorError
from safetensors.numpy import load_file

from sentiment.model import write_model_file
from sentiment.student import quantize_rows


def test_column_major_arrays_read_back_as_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    column_major = np.asfortranarray(rng.normal(size=(56, 384)).astype(np.float32))
    q, scale = quantize_rows(column_major)
    path = tmp_path / "model.safetensors"

    write_model_file({"f": column_major, "q": q, "scale": scale, "t": column_major.T}, path, {"k": "v"})

    back = load_file(str(path))
    assert np.array_equal(back["f"], column_major)
    assert np.array_equal(back["q"], q)
    assert np.array_equal(back["t"], column_major.T)
    assert np.array_equal(back["scale"], scale)


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    write_model_file({"w": np.ones((2, 2), np.float32)}, path, {})

    with pytest.raises(SafetensorError, match="dtype"):
        write_model_file({"w": np.ones((2, 2), np.float32), "v": np.array([object()])}, path, {})

    assert np.array_equal(load_file(str(path))["w"], np.ones((2, 2), np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]
