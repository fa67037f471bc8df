"""Which model file the fast path serves: a student beside a model only when it was made from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from core.settings import Settings
from sentiment.cpu_features import has_int8_dot_product
from sentiment.model import MODEL_FILE, Head, builtin_version, fast_path_file, resolve_inference
from sentiment.student import STUDENT_FILE, stored_layer_count, student_of


def _model_copy(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE.name
    shutil.copyfile(MODEL_FILE, path)
    return path


# On ONNX Runtime the fast path's form of a model is its distilled student: `auto` looks for one.
ONNX_RUNTIME_AUTO = Settings(inference="auto", model=None, quantize=None, fast_runtime="onnxruntime")


def _student_beside(model: Path, of: str) -> Path:
    path = model.parent / STUDENT_FILE.name
    tensors = {"student.encoder.layer.0.output.dense.bias": np.zeros(4, dtype=np.float16)}
    save_file(tensors, str(path), metadata={"student_of": of, "student_layers": "0"})
    return path


def test_a_student_made_from_the_model_is_served_by_the_fast_path(tmp_path: Path) -> None:
    model = _model_copy(tmp_path / "m")
    version = builtin_version(model, Head.load(model))
    student = _student_beside(model, version)

    assert student_of(model, version) == student
    assert fast_path_file(model) == student
    assert resolve_inference(ONNX_RUNTIME_AUTO, model) == "fast"


def test_a_student_of_another_version_is_not_served(tmp_path: Path) -> None:
    model = _model_copy(tmp_path / "m")
    _student_beside(model, "e5-small-lora-0000000000")  # the model was retrained since

    assert fast_path_file(model) == model
    assert resolve_inference(ONNX_RUNTIME_AUTO, model) == "torch"
    # Asked for explicitly, the fast path is the whole encoder's export of the model itself.
    assert resolve_inference(ONNX_RUNTIME_AUTO.model_copy(update={"inference": "fast"}), model) == "fast"


def test_auto_means_torch_for_a_model_without_a_student_or_with_int8(tmp_path: Path) -> None:
    model = _model_copy(tmp_path / "m")
    assert resolve_inference(ONNX_RUNTIME_AUTO, model) == "torch"
    _student_beside(model, builtin_version(model, Head.load(model)))
    assert resolve_inference(ONNX_RUNTIME_AUTO.model_copy(update={"quantize": "int8"}), model) == "torch"


def test_the_shipped_model_has_its_student() -> None:
    version = builtin_version(MODEL_FILE, Head.load(MODEL_FILE))
    assert student_of(MODEL_FILE, version) == STUDENT_FILE
    assert resolve_inference(ONNX_RUNTIME_AUTO, MODEL_FILE) == "fast"


def test_a_file_without_student_layers_is_refused() -> None:
    with pytest.raises(ValueError, match="no student layers"):
        stored_layer_count({"layer0.weight": np.zeros((3, 4), dtype=np.float32)})


def test_on_openvino_auto_is_the_fast_path_where_it_serves_int8_but_not_for_the_torch_int8_or_another_model(
    tmp_path: Path,
) -> None:
    """OpenVINO's form of a model is made from the model itself (int8 on its dev part): no student
    needed. Its fp32 form runs at torch's speed, so "auto" takes it only where int8 is served: on a CPU
    with int8 dot products, or where MD_FAST_PRECISION asks for int8."""
    model = _model_copy(tmp_path / "m")
    auto = Settings(inference="auto", model=None, quantize=None, fast_runtime="openvino")
    int8 = auto.model_copy(update={"fast_precision": "int8"})
    assert resolve_inference(int8, model) == "fast"
    assert resolve_inference(auto.model_copy(update={"fast_precision": "fp32"}), model) == "torch"
    here = "fast" if has_int8_dot_product() else "torch"
    assert resolve_inference(auto, model) == here
    assert resolve_inference(int8.model_copy(update={"quantize": "int8"}), model) == "torch"
    assert resolve_inference(int8.model_copy(update={"model": "some/hf-model"}), model) == "torch"
    assert resolve_inference(int8, tmp_path / "missing.safetensors") == "torch"
    assert Settings().inference == "auto", "the default: fast where it pays"
