"""The negativity model: text in, calibrated P(negative) and a three-way label out.

Two back ends behind one protocol:
- built-in: the multilingual-e5-small encoder (built offline by `encoder_build`) with its committed
  low-rank adapter merged in (`adapter.py`), mean-pooled `query: ` embeddings, and a small head with
  per-language calibration (temperature and class biases) and negative thresholds, all in one file
  (`weights/model.safetensors`, or the retrained model named by `var/models/active.json`); the encoder
  runs in torch (traced into one graph, `torch_graph`), or (`MD_INFERENCE=fast`) on OpenVINO in
  int8 or fp32 by CPU (`openvino_encoder`, the default fast runtime) or as its fused ONNX export on
  ONNX Runtime (`onnx_encoder`);
- `settings.model`: any Hugging Face sequence-classification model, its labels mapped to
  negative / neutral / positive by name.

No Faust, Streamlit or database here: the worker calls `score` from one executor thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

import numpy as np
import numpy.typing as npt

from schemas.mention import Language
from schemas.scored import SentimentLabel
from sentiment.adapter import Adapter
from sentiment.memory import CorrectionMemory
from sentiment.student import STUDENT_FILE, StudentWeights
from sentiment.torch_graph import traced_or_eager

if TYPE_CHECKING:
    import torch

    from core.settings import Settings
    from sentiment.onnx_encoder import OnnxEncoder

LABELS: tuple[SentimentLabel, SentimentLabel, SentimentLabel] = ("negative", "neutral", "positive")
QUERY_PREFIX = "query: "
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODEL_FILE = WEIGHTS_DIR / "model.safetensors"

F32Array = npt.NDArray[np.float32]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Score:
    """One text's result."""

    label: SentimentLabel  # "negative" | "neutral" | "positive"
    negativity: float  # calibrated P(negative), 0..1
    probs: dict[str, float]  # keys negative, neutral, positive; sum 1


class NegativityModel(Protocol):
    version: str  # stored with every score

    def score(self, texts: Sequence[str]) -> list[Score]: ...


class LabelMappingError(ValueError):
    """A classifier's labels cannot be read as negative / neutral / positive."""


# --------------------------------------------------------------------------- scores


def scores_from_probs(
    probs: npt.NDArray[np.floating[Any]], thresholds: Sequence[float | None] | None = None
) -> list[Score]:
    """Rows of (negative, neutral, positive) probabilities -> Scores (rows renormalised to 1).

    The label is the most probable class, unless the row has a negative threshold: then it is
    "negative" exactly when P(negative) reaches it, else the more probable of neutral and positive.
    """
    out: list[Score] = []
    for i, raw in enumerate(np.asarray(probs, dtype=np.float64)):
        clipped = np.clip(raw, 0.0, None)
        total = float(clipped.sum())
        row = clipped / total if total > 0 else np.full(3, 1 / 3)
        values: dict[str, float] = {name: float(p) for name, p in zip(LABELS, row, strict=True)}
        threshold = thresholds[i] if thresholds is not None else None
        if threshold is None:
            label = LABELS[int(np.argmax(row))]
        elif row[0] >= threshold:
            label = LABELS[0]
        else:
            label = LABELS[1] if row[1] >= row[2] else LABELS[2]
        out.append(Score(label=label, negativity=values["negative"], probs=values))
    return out


def softmax(logits: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return cast("npt.NDArray[np.float64]", e / e.sum(axis=-1, keepdims=True))


# --------------------------------------------------------------------------- batching


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Indices grouped into batches of similar length (far less padding than input order)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def spread(batches: list[list[int]], workers: int) -> list[list[int]]:
    """`batches`, the largest halved until there are at least `workers` of them (or all are single)."""
    out = list(batches)
    while 0 < len(out) < workers:
        largest = max(range(len(out)), key=lambda i: len(out[i]))
        if len(out[largest]) < 2:
            break
        batch = out.pop(largest)
        half = len(batch) // 2
        out[largest:largest] = [batch[:half], batch[half:]]
    return out


def balanced_batch_size(count: int, batch_size: int, workers: int) -> int:
    """The batch size, at most `batch_size`, that cuts `count` texts into a multiple of `workers`
    batches of near-equal size: 40 texts on two cores run as 20 and 20, not 32 beside 8 (one core
    idle most of the call: at a moderate rate the worker's takes are of that size)."""
    if count <= 0 or workers <= 1:
        return batch_size
    batches = -(-count // batch_size)
    batches = -(-batches // workers) * workers
    return max(1, -(-count // batches))


def embed_side_by_side(
    seqs: Sequence[Sequence[int]],
    run: Callable[[list[int]], F32Array],
    out: F32Array,
    *,
    batch_size: int,
    runners: ThreadPoolExecutor | None,
    workers: int,
    progress: Callable[[int], object] | None = None,
) -> None:
    """Fill `out` with `run(batch)` for length-sorted batches of the token sequences `seqs`, `workers`
    batches at a time on `runners` (in the caller's thread when None); `progress(n)` after each.

    The longest batches go first: each runner takes the next batch when it is free, so the call ends
    on short batches and no core waits long for the last one (shortest first, the longest batch ran
    alone at the end: two cores were busy 1.5 to 1.7 of the time)."""
    size = balanced_batch_size(len(seqs), batch_size, workers)
    batches = spread(list(length_sorted_batches([len(s) for s in seqs], size)), workers)[::-1]

    def one(batch: list[int]) -> tuple[list[int], F32Array]:
        return batch, run(batch)

    for batch, x in map(one, batches) if runners is None else runners.map(one, batches):
        out[batch] = x
        if progress is not None:
            progress(len(batch))


def _pad(seqs: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


# --------------------------------------------------------------------------- encoder


class E5Encoder:
    """multilingual-e5-small: `query: ` + text -> L2-normalised mean-pooled embedding.

    `threads` cores run whole batches side by side, one single-threaded forward pass per core, as
    the fast path does (`onnx_encoder`): a pass split across cores waits at every operator for its
    slowest thread, so any other work on the machine (the worker's event loop and database writes,
    the broker) stalls both cores at once. A call with fewer batches than cores has its batches
    halved first, so a lone batch still uses every core.
    """

    inference = "torch"

    def __init__(
        self,
        folder: Path,
        max_length: int,
        batch_size: int,
        threads: int,
        *,
        adapter: Adapter | None = None,
        quantize: str | None = None,
        student: StudentWeights | None = None,
    ) -> None:
        """`student`: a student file's weights (`sentiment.student`); its layers replace the encoder's."""
        import torch
        from transformers import AutoTokenizer, BertModel

        from sentiment.student import load_student

        torch.set_num_threads(1)  # per pass; `threads` passes run side by side
        self.threads = threads
        self._runners = (
            ThreadPoolExecutor(max_workers=threads, thread_name_prefix="md-torch") if threads > 1 else None
        )
        self.folder = folder
        self.max_length = max_length
        self.batch_size = batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        model: Any = (
            BertModel.from_pretrained(str(folder), add_pooling_layer=False)
            if student is None
            else load_student(folder, student)
        )
        if adapter is not None:
            adapter.merge_into(model)
        model = model.eval()
        if quantize == "int8":
            # Linear layers in int8 with per-batch activation scales: faster on CPU, slightly
            # different embeddings (see the README's model section for the measured cost).
            model = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                model, {torch.nn.Linear}, dtype=torch.qint8
            )
        elif quantize:
            raise ValueError(f"unknown quantization {quantize!r}; known: int8")
        self.pad_id = int(self.tokenizer.pad_token_id)
        # one TorchScript graph instead of the eager module (sentiment.torch_graph: the same
        # embeddings, and passes that do not stall while the worker's other threads run Python)
        example = _pad(self.tokenize(["пример", "an example, a little longer than the first"]), self.pad_id)
        self.model: Any = traced_or_eager(model, *example)
        self._lock = threading.Lock()
        self._single = threading.Lock()
        """With no runner pool, passes run in the calling thread: one call at a time keeps to
        `threads` (1) core. With a pool, calls share its runners, and a second call's batches start
        on a runner the first has left idle (at its end, or while it is tokenising)."""

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        enc = self.tokenizer([QUERY_PREFIX + t for t in texts], truncation=True, max_length=self.max_length)
        return [list(ids) for ids in enc["input_ids"]]

    def embed(self, texts: Sequence[str], progress: Callable[[int], object] | None = None) -> F32Array:
        """(len(texts), 384) float32 embeddings; `progress(n)` is called after each batch."""
        import torch

        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        if not texts:
            return out
        with self._lock:  # a fast tokenizer refuses concurrent calls ("Already borrowed")
            seqs = self.tokenize(texts)

        def run(batch: list[int]) -> F32Array:
            with torch.inference_mode():  # per thread: the mode is thread-local
                ids, mask = _pad([seqs[i] for i in batch], self.pad_id)
                hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
                m = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
                pooled = torch.nn.functional.normalize(pooled, p=2.0, dim=-1)
                return cast(F32Array, pooled.float().numpy())

        with self._single if self._runners is None else nullcontext():
            embed_side_by_side(
                seqs,
                run,
                out,
                batch_size=self.batch_size,
                runners=self._runners,
                workers=self.threads,
                progress=progress,
            )
        return out


# --------------------------------------------------------------------------- head


@dataclass(frozen=True)
class Head:
    """A small MLP (no hidden layer = logistic regression) over embeddings; ReLU between layers.

    Logits are divided by `temperature` (fitted on held-out data) before the softmax.
    """

    weights: tuple[F32Array, ...]  # each (out, in)
    biases: tuple[F32Array, ...]
    temperature: float = 1.0
    meta: dict[str, str] | None = None

    def logits(self, x: F32Array) -> npt.NDArray[np.float64]:
        h = np.asarray(x, dtype=np.float64)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ w.T.astype(np.float64) + b
            if i < len(self.weights) - 1:
                h = np.maximum(h, 0.0)
        return h

    def probs(self, x: F32Array) -> npt.NDArray[np.float64]:
        return softmax(self.logits(x) / self.temperature)

    def save(self, path: Path, meta: dict[str, str] | None = None) -> None:
        tensors: dict[str, npt.NDArray[Any]] = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            tensors[f"layer{i}.weight"] = np.ascontiguousarray(w, dtype=np.float32)
            tensors[f"layer{i}.bias"] = np.ascontiguousarray(b, dtype=np.float32)
        metadata = {**(self.meta or {}), **(meta or {})}
        metadata.update(
            labels=",".join(LABELS), temperature=repr(float(self.temperature)), layers=str(len(self.weights))
        )
        write_model_file(tensors, path, metadata)

    @classmethod
    def load(cls, path: Path) -> Head:
        from safetensors import safe_open
        from safetensors.numpy import load_file

        tensors = load_file(str(path))
        with safe_open(str(path), framework="numpy") as f:
            meta = dict(f.metadata() or {})
        if meta.get("labels", ",".join(LABELS)) != ",".join(LABELS):
            raise ValueError(f"{path}: head labels {meta.get('labels')!r}, expected {','.join(LABELS)}")
        n = int(meta.get("layers", "1"))
        return cls(
            weights=tuple(tensors[f"layer{i}.weight"] for i in range(n)),
            biases=tuple(tensors[f"layer{i}.bias"] for i in range(n)),
            temperature=float(meta.get("temperature", "1.0")),
            meta=meta,
        )


def write_model_file(tensors: Mapping[str, npt.NDArray[Any]], path: Path, metadata: dict[str, str]) -> None:
    """Write a safetensors file beside `path`, then move it over: a failed or killed write leaves the
    old file whole (a failed one also removes its half-written copy).

    Every tensor is written C-contiguous: `safetensors.numpy.save_file` (0.8) stores an array's buffer
    as it lies in memory, so a column-major array (what `torch.linalg.svd` returns) reads back
    scrambled, with no error."""
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        save_file(
            {name: np.ascontiguousarray(value) for name, value in tensors.items()},
            str(tmp),
            metadata=metadata,
        )
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)


def file_hash(path: Path, n: int = 10) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:n]


@dataclass(frozen=True, slots=True)
class LogitScaling:
    """One language's calibration of the head's logits: softmax(logits / temperature + bias)."""

    temperature: float
    bias: tuple[float, float, float] = (0.0, 0.0, 0.0)  # negative, neutral, positive

    def probs(self, logits: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
        return softmax(np.asarray(logits, dtype=np.float64) / self.temperature + np.array(self.bias))

    def to_json(self) -> dict[str, Any]:
        return {"temperature": round(self.temperature, 6), "bias": [round(b, 6) for b in self.bias]}


def read_scalings(meta: dict[str, str] | None) -> dict[str, LogitScaling]:
    """Per-language logit scalings from a model file's metadata ({} when it has none: plain temperature)."""
    raw = (meta or {}).get("calibration")
    if not raw:
        return {}
    out: dict[str, LogitScaling] = {}
    for language, item in json.loads(raw).items():
        bias = tuple(float(b) for b in item.get("bias", (0.0, 0.0, 0.0)))
        if len(bias) != len(LABELS):
            raise ValueError(f"calibration of {language!r}: {len(bias)} biases, expected {len(LABELS)}")
        out[str(language)] = LogitScaling(float(item["temperature"]), (bias[0], bias[1], bias[2]))
    return out


def read_thresholds(meta: dict[str, str] | None) -> dict[str, float]:
    """Per-language negative thresholds from a model file's metadata ({} when it has none)."""
    raw = (meta or {}).get("thresholds")
    if not raw:
        return {}
    return {str(k): float(v) for k, v in json.loads(raw).items()}


def builtin_version(model_path: Path, head: Head, quantize: str | None = None) -> str:
    """The version recorded with every score of the built-in model in `model_path`."""
    meta = head.meta or {}
    kind = "lora" if meta.get("lora_scale") else "fast" if meta.get("student_of") else "head"
    suffix = f"-{quantize}" if quantize else ""
    return f"e5-small-{kind}-{file_hash(model_path)}{suffix}"


class E5HeadModel:
    """The built-in model: e5-small encoder (adapter merged) + head, one file."""

    def __init__(
        self,
        encoder: E5Encoder | OnnxEncoder,  # or its subclass OpenVinoEncoder
        head: Head,
        model_path: Path,
        quantize: str | None = None,
        memory: CorrectionMemory | None = None,
    ) -> None:
        self.encoder = encoder
        self.head = head
        self.memory = memory
        self.path = model_path
        self.inference = encoder.inference  # "torch" | "fast"
        self.runtime: str = getattr(encoder, "runtime", "torch int8" if quantize else "torch")
        self.thresholds = read_thresholds(head.meta)
        self.scalings = read_scalings(head.meta)
        self.version = builtin_version(model_path, head, quantize)

    def threshold_for(self, language: Language) -> float | None:
        """The negative threshold of a language ("*" covers the others; None = plain argmax)."""
        return self.thresholds.get(language, self.thresholds.get("*"))

    def scaling_for(self, language: Language) -> LogitScaling:
        """The logit scaling of a language ("*" covers the others; else the head's temperature)."""
        return self.scalings.get(language) or self.scalings.get("*") or LogitScaling(self.head.temperature)

    def calibrated_probs(self, x: F32Array, languages: Sequence[Language]) -> npt.NDArray[np.float64]:
        """Calibrated (negative, neutral, positive) rows of embeddings `x` in these languages."""
        if not self.scalings:
            return self.head.probs(x)
        logits = self.head.logits(x)
        probs = np.empty_like(logits)
        langs = np.array(languages)
        for language in sorted(set(languages)):
            rows = langs == language
            probs[rows] = self.scaling_for(language).probs(logits[rows])
        return probs

    def score(self, texts: Sequence[str]) -> list[Score]:
        if not texts:
            return []
        return self.scores_from_embeddings(self.encoder.embed(list(texts)), texts)

    def scores_from_embeddings(
        self, x: F32Array, texts: Sequence[str], *, use_memory: bool = True
    ) -> list[Score]:
        """Scores of `texts` from their embeddings `x` (`use_memory=False`: the weights alone)."""
        from sentiment.language import detect_language

        languages = [detect_language(t) for t in texts] if self.thresholds or self.scalings else []
        probs = self.calibrated_probs(x, languages)
        if use_memory and self.memory is not None:
            probs = self.memory.apply(texts, probs, x)
        thresholds = [self.threshold_for(lang) for lang in languages] if self.thresholds else None
        return scores_from_probs(probs, thresholds)


# --------------------------------------------------------------------------- other HF models

_STARS = re.compile(r"^\s*([1-5])(\s*stars?)?\s*$", re.IGNORECASE)
_LABEL_N = re.compile(r"^label_([0-9]+)$", re.IGNORECASE)
_NAMED = {"negative": 0, "neg": 0, "neutral": 1, "neu": 1, "positive": 2, "pos": 2}


def label_matrix(id2label: dict[int, str]) -> npt.NDArray[np.float64]:
    """(n_labels, 3) 0/1 matrix summing a classifier's probabilities into negative/neutral/positive.

    Understood: negative/neutral/positive in any case (also neg/neu/pos), LABEL_0..2 of a 3-label
    model as negative/neutral/positive, and 1-5 star labels (1-2 negative, 3 neutral, 4-5 positive).
    """
    n = len(id2label)
    names = {int(i): str(name).strip() for i, name in id2label.items()}
    shown = [names[i] for i in sorted(names)]
    if sorted(names) != list(range(n)):
        raise LabelMappingError(f"label ids are not 0..{n - 1}: {sorted(names)}")
    matrix = np.zeros((n, 3), dtype=np.float64)
    stars = False
    for i, name in names.items():
        low = name.lower()
        star = _STARS.match(low)
        generic = _LABEL_N.match(low)
        if low in _NAMED:
            matrix[i, _NAMED[low]] = 1
        elif star:
            stars = True
            count = int(star.group(1))
            matrix[i, 0 if count <= 2 else 1 if count == 3 else 2] = 1
        elif generic and n == 3 and int(generic.group(1)) < 3:
            matrix[i, int(generic.group(1))] = 1
        else:
            raise LabelMappingError(
                f"cannot map label {name!r} of {shown} to negative/neutral/positive; expected "
                "negative/neutral/positive (any case), LABEL_0..LABEL_2 of a 3-label model, or 1-5 stars"
            )
    if not matrix[:, 0].any():
        raise LabelMappingError(f"no negative class among labels {shown}: negativity is undefined")
    if not stars and (matrix.sum(axis=0) > 1).any():
        raise LabelMappingError(f"labels {shown} name one sentiment twice")
    return matrix


class HFClassifierModel:
    """Any Hugging Face sequence-classification model, its labels mapped by name."""

    def __init__(self, name: str, max_length: int, batch_size: int, threads: int) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        torch.set_num_threads(threads)
        self.tokenizer = AutoTokenizer.from_pretrained(name)
        self.model = AutoModelForSequenceClassification.from_pretrained(name).eval()
        config = self.model.config
        self.matrix = label_matrix({int(k): v for k, v in config.id2label.items()})
        limit = getattr(self.tokenizer, "model_max_length", max_length) or max_length
        self.max_length = min(max_length, int(limit)) if int(limit) > 0 else max_length
        self.batch_size = batch_size
        pad = self.tokenizer.pad_token_id
        self.pad_id = int(pad) if pad is not None else 0
        digest = hashlib.sha256(
            json.dumps(config.to_dict(), sort_keys=True, default=str).encode()
        ).hexdigest()
        self.version = f"hf-{Path(name).name or name}-{digest[:10]}"
        self._lock = threading.Lock()

    def score(self, texts: Sequence[str]) -> list[Score]:
        import torch

        if not texts:
            return []
        with self._lock, torch.inference_mode():
            enc = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)
            seqs = [list(ids) for ids in enc["input_ids"]]
            probs = np.zeros((len(seqs), 3), dtype=np.float64)
            for batch in length_sorted_batches([len(s) for s in seqs], self.batch_size):
                ids, mask = _pad([seqs[i] for i in batch], self.pad_id)
                logits = self.model(input_ids=ids, attention_mask=mask).logits.float().numpy()
                probs[batch] = softmax(logits) @ self.matrix
        return scores_from_probs(probs)


# --------------------------------------------------------------------------- entry point


def active_model_file(settings: Settings) -> Path:
    """The built-in model's file: the retrained one `model retrain` switched to, else the committed one."""
    from sentiment.registry import ModelRegistry

    return ModelRegistry(settings.model_dir).active_file() or MODEL_FILE


def fast_path_file(path: Path) -> Path:
    """The file the fast path serves for the model file at `path`: its distilled student when one
    beside it was made from this very model (`sentiment.student.student_of`), else the file itself."""
    from sentiment.student import student_of

    return student_of(path, builtin_version(path, Head.load(path))) or path


def load_builtin(
    settings: Settings, model_path: Path | None = None, inference: Literal["fast", "torch"] = "torch"
) -> E5HeadModel:
    """The built-in model (building the encoder into the cache if needed).

    `inference="fast"` (unless `settings.quantize` asks for the torch path's int8) serves, with
    `settings.fast_runtime` "openvino", the model itself on OpenVINO in the precision that pays on this
    CPU (`openvino_export.served_precision`: int8 quantized on its dev part, or fp32), built first if
    missing (`openvino_export.ensure_served`: fp32 when int8 cannot be calibrated here; if OpenVINO
    cannot serve at all, ONNX Runtime does);
    with "onnxruntime", from ONNX Runtime (`onnx_export.ensure_export`): the distilled student of the model
    (`sentiment.student`, found beside its file) when there is one, else the whole encoder exported.
    The student brings its own calibration and thresholds, and the model's correction memory applies
    to it as well. Training, calibration and retrain keep the default torch path: their figures are the
    reference the fast path is held to. A student file that cannot be read or loaded is reported
    and the whole encoder's export serves instead.
    """
    from safetensors.numpy import load_file

    from sentiment.encoder_build import ensure_encoder

    path = model_path or active_model_file(settings)
    if not path.is_file():
        raise FileNotFoundError(f"no trained model at {path}: run `make model`")
    head = Head.load(path)
    tensors = load_file(str(path))
    memory = CorrectionMemory.from_tensors(tensors)
    if inference == "fast" and not settings.quantize and settings.fast_runtime == "openvino":
        on_openvino = _openvino_encoder(settings, path, builtin_version(path, head))
        if on_openvino is not None:
            return E5HeadModel(on_openvino, head, path, None, memory)
        settings = settings.model_copy(update={"fast_runtime": "onnxruntime"})
    if inference == "fast" and not settings.quantize:
        from sentiment.onnx_encoder import OnnxEncoder
        from sentiment.onnx_export import ensure_export

        served_path, served_head, export = path, head, None
        try:
            served_path = fast_path_file(path)
            if served_path != path:
                served_head = Head.load(served_path)
                export = ensure_export(settings, served_path, builtin_version(served_path, served_head))
        except Exception as exc:  # a damaged or foreign student must not stop the worker
            log.error(
                "the fast path's student %s cannot be used (%s: %s); serving the whole "
                "encoder's export instead (slower, the torch path's figures)",
                path.parent / STUDENT_FILE.name,
                type(exc).__name__,
                exc,
            )
            served_path, served_head = path, head
        if served_path == path:
            export = ensure_export(settings, path, builtin_version(path, head))
        assert export is not None
        fast = OnnxEncoder(
            export,
            ensure_encoder(settings.model_cache_dir),
            settings.max_length,
            settings.batch_size,
            settings.torch_threads,
        )
        return E5HeadModel(fast, served_head, served_path, None, memory)
    scale = (head.meta or {}).get("lora_scale")
    adapter = Adapter.from_tensors(tensors, float(scale)) if scale else None
    folder = ensure_encoder(settings.model_cache_dir)
    student = StudentWeights.of(tensors, head.meta) if (head.meta or {}).get("student_of") else None
    encoder = E5Encoder(
        folder,
        settings.max_length,
        settings.batch_size,
        settings.torch_threads,
        adapter=adapter,
        quantize=settings.quantize,
        student=student,
    )
    return E5HeadModel(encoder, head, path, settings.quantize, memory)


def _openvino_encoder(settings: Settings, path: Path, version: str) -> OnnxEncoder | None:
    """The model of the file at `path` on OpenVINO (`openvino_export.ensure_served`: the served
    precision, or fp32 when int8 cannot be calibrated here), or None, reported, when OpenVINO cannot
    build or load it (then ONNX Runtime serves the fast path)."""
    from sentiment.encoder_build import ensure_encoder
    from sentiment.openvino_export import ensure_served

    try:
        from sentiment.openvino_encoder import OpenVinoEncoder

        export = ensure_served(settings, path, version)
        return OpenVinoEncoder(
            export,
            ensure_encoder(settings.model_cache_dir),
            settings.max_length,
            settings.batch_size,
            settings.torch_threads,
        )
    except Exception as exc:  # a damaged cache, a broken runtime: the worker must still start
        log.error(
            "the fast path's OpenVINO model of %s cannot be used (%s: %s); serving it on ONNX Runtime "
            "instead",
            path.name,
            type(exc).__name__,
            exc,
        )
        return None


def load_model(settings: Settings) -> NegativityModel:
    """The model the settings ask for: built-in unless `settings.model` names another."""
    if settings.model:
        return HFClassifierModel(
            settings.model, settings.max_length, settings.batch_size, settings.torch_threads
        )
    return load_builtin(settings, inference=resolve_inference(settings))


def resolve_inference(settings: Settings, model_path: Path | None = None) -> Literal["fast", "torch"]:
    """The path `settings.inference` means for the model in force (or `model_path`). "auto" is the fast
    path where it is faster at the torch path's figures: on OpenVINO, when it serves int8 (a CPU with
    int8 dot products; elsewhere OpenVINO's fp32 runs at torch's speed with more memory, so torch
    serves); on ONNX Runtime, when the model has its distilled student. "fast" and "torch" are
    themselves; another model (`settings.model`) and the torch path's own int8 are torch."""
    from sentiment.openvino_export import served_precision

    if settings.inference != "auto":
        return settings.inference
    if settings.model or settings.quantize:
        return "torch"
    path = model_path or active_model_file(settings)
    if not path.is_file():
        return "torch"
    if settings.fast_runtime == "openvino":
        return "fast" if served_precision(settings) == "int8" else "torch"
    return "fast" if fast_path_file(path) != path else "torch"
