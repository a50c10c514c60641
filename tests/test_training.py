"""Tests of hybrid-batch training: corpus, sampler statistics, InfoNCE, and the trainer on e5-small.

Sampler and corpus tests use real XNLI (three hypotheses share each premise, so group
collisions really happen). Trainer tests train a tiny random model (2 layers, 16 dims, e5's
tokenizer) on 300 XNLI examples for 6 steps and compare runs bit for bit, in seconds; the same
on the embedded e5-small (batch 4, max_length 32) is marked slow.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from repro.errors import ReproError
from repro.training import (
    Example,
    HybridBatchSampler,
    InfoNCELoss,
    ParallelCorpus,
    TrainConfig,
    load_jsonl_corpus,
    save_jsonl_corpus,
    split_by_group,
    train,
    xnli_corpus,
)
from repro.training.forward import CPU_FORWARD_COST_TOKENS, embed_texts, forward_groups
from repro.training.trainer import Progress

# Chi-square critical values at p = 0.001 (a false alarm once in a thousand runs... of a
# deterministic test: the seeds are fixed, so it either passes or not). df = languages - 1.
CHI2_CRIT_P001 = {11: 31.26, 12: 32.91}


@pytest.fixture(scope="module")
def xnli(fetched: None) -> ParallelCorpus:
    return xnli_corpus()


@pytest.fixture(scope="module")
def xnli_split(xnli: ParallelCorpus) -> tuple[ParallelCorpus, ParallelCorpus]:
    return split_by_group(xnli, val_fraction=0.1, seed=0, holdout_languages=("el", "vi"))


def is_mono(batch) -> bool:
    return all(item.query_language == item.passage_language for item in batch)


def chi_square(counts: Counter, categories) -> float:
    total = sum(counts[c] for c in categories)
    expected = total / len(categories)
    return sum((counts[c] - expected) ** 2 / expected for c in categories)


def take(sampler: HybridBatchSampler, n: int) -> list[list[tuple[int, str, str]]]:
    out = []
    for batch in sampler:
        out.append([tuple(item) for item in batch])
        if len(out) == n:
            return out
    raise AssertionError("unreachable")


# --- corpus -----------------------------------------------------------------------------------


def test_xnli_corpus_shape(xnli: ParallelCorpus) -> None:
    from repro.data.xnli import LANGUAGES, load_xnli

    assert len(xnli) == 2490 + 5010
    assert xnli.languages == tuple(sorted(LANGUAGES))
    assert xnli.n_groups == 830 + 1670  # three hypotheses per premise
    dev_de = load_xnli("dev", "de")
    assert xnli[5].id == "xnli-dev-5"
    assert xnli.pair(5, "de", "de") == (dev_de[5]["hypothesis"], dev_de[5]["premise"])
    assert xnli.pair(5, "en", "de")[1] == dev_de[5]["premise"]


def test_group_split_keeps_premises_on_one_side(xnli_split) -> None:
    train_set, val_set = xnli_split
    assert len(train_set) + len(val_set) == 7500
    assert 0.09 < len(val_set) / 7500 < 0.11
    # Checked on the text itself, not on group ids: no English premise is on both sides.
    train_premises = {example.texts["en"][1] for example in train_set}
    val_premises = {example.texts["en"][1] for example in val_set}
    assert not train_premises & val_premises
    for part in (train_set, val_set):
        assert "el" not in part.languages and "vi" not in part.languages
        assert len(part.languages) == 13
        assert all("el" not in e.texts and "vi" not in e.texts for e in part)


def test_group_split_is_seeded_and_holdout_configurable(xnli: ParallelCorpus) -> None:
    a, _ = split_by_group(xnli, 0.2, seed=1, holdout_languages=["sw"])
    b, _ = split_by_group(xnli, 0.2, seed=1, holdout_languages=["sw"])
    c, _ = split_by_group(xnli, 0.2, seed=2, holdout_languages=["sw"])
    assert [e.id for e in a] == [e.id for e in b] != [e.id for e in c]
    assert "sw" not in a.languages and {"el", "vi"} <= set(a.languages)
    with pytest.raises(ReproError, match="val_fraction"):
        split_by_group(xnli, 1.0)
    with pytest.raises(ReproError, match="no language"):
        split_by_group(xnli.with_languages(["el", "vi"]), 0.1, holdout_languages=["el", "vi"])
    # No language is held out unless the experiment says so (the seed paper's write [el, vi]).
    d, _ = split_by_group(xnli, 0.2, seed=1)
    assert set(d.languages) == set(xnli.languages)


def test_jsonl_round_trip(tmp_path: Path, xnli: ParallelCorpus) -> None:
    small = xnli.subset(range(12)).with_languages(["en", "de", "th"])
    path = tmp_path / "corpus.jsonl"
    save_jsonl_corpus(small, path)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 12 * 3
    back = load_jsonl_corpus(path)
    assert back.languages == ("de", "en", "th")
    assert [(e.id, e.group, dict(e.texts)) for e in back] == [(e.id, e.group, dict(e.texts)) for e in small]
    assert back.n_groups == small.n_groups == 4


def test_jsonl_group_defaults_to_id(tmp_path: Path) -> None:
    lines = [
        {"id": 1, "language": "en", "query": "q1", "passage": "p1"},
        {"id": 1, "language": "de", "query": "f1", "passage": "d1"},
        {"id": "2", "language": "de", "query": "f2", "passage": "d2"},
        {"id": "2", "language": "en", "query": "q2", "passage": "p2"},
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n", encoding="utf-8")
    corpus = load_jsonl_corpus(path)
    assert [(e.id, e.group) for e in corpus] == [("1", "1"), ("2", "2")]
    assert corpus.pair(1, "en", "de") == ("q2", "d2")


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", r"c\.jsonl:3: not valid JSON"),
        ('{"id": "b", "language": "de", "query": "x"}', r"c\.jsonl:3: missing field 'passage'"),
        (
            '{"id": "b", "language": "de", "query": "", "passage": "y"}',
            r"c\.jsonl:3: 'query' must be a non-empty string",
        ),
        (
            '{"id": "a", "language": "en", "query": "x", "passage": "y"}',
            r"c\.jsonl:3: example 'a' already has a 'en' line",
        ),
        (
            '{"id": "a", "language": "fr", "query": "x", "passage": "y", "group": "g"}',
            r"c\.jsonl:3: example 'a' has group 'g'",
        ),
        ("[1, 2]", r"c\.jsonl:3: expected a JSON object"),
    ],
)
def test_jsonl_malformed_line_names_it(tmp_path: Path, bad_line: str, message: str) -> None:
    good = [
        json.dumps({"id": "a", "language": "en", "query": "q", "passage": "p"}),
        json.dumps({"id": "a", "language": "de", "query": "q", "passage": "p"}),
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join([*good, bad_line]) + "\n", encoding="utf-8")
    with pytest.raises(ReproError, match=message):
        load_jsonl_corpus(path)


def test_corpus_errors(tmp_path: Path, xnli: ParallelCorpus) -> None:
    with pytest.raises(ReproError, match="does not exist"):
        load_jsonl_corpus(tmp_path / "missing.jsonl")
    path = tmp_path / "partial.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"id": "a", "language": "en", "query": "q", "passage": "p"},
                {"id": "a", "language": "de", "query": "q", "passage": "p"},
                {"id": "b", "language": "en", "query": "q", "passage": "p"},
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ReproError, match="example 'b' has no text in de"):
        load_jsonl_corpus(path)
    with pytest.raises(ReproError, match="no texts in xx"):
        xnli.with_languages(["en", "xx"])
    with pytest.raises(ReproError, match="no texts in xx"):
        HybridBatchSampler(xnli, ["en", "xx"], 8, 0.5)


# --- sampler ----------------------------------------------------------------------------------


def test_sampler_statistics(xnli_split) -> None:
    """alpha 0.3 over 2,000 batches: mono share within 3 sigma, languages uniform, X != Y in X-Y."""
    train_set, _ = xnli_split
    languages = train_set.languages
    alpha, n_batches = 0.3, 2000
    batches = take(HybridBatchSampler(train_set, languages, 8, alpha, seed=3), n_batches)
    mono = [b for b in batches if all(x == y for _, x, y in b)]
    cross = [b for b in batches if not all(x == y for _, x, y in b)]
    sigma = math.sqrt(alpha * (1 - alpha) / n_batches)
    assert abs(len(mono) / n_batches - alpha) < 3 * sigma
    # X-Y: every pair crosses languages (a mixed batch is never partly mono).
    assert all(x != y for b in cross for _, x, y in b)
    # Mono batches: one language per batch, uniform over batches.
    assert all(len({x for _, x, _ in b}) == 1 for b in mono)
    df = len(languages) - 1
    assert chi_square(Counter(b[0][1] for b in mono), languages) < CHI2_CRIT_P001[df]
    # X-Y: query language uniform; passage language uniform too (uniform among the others of a uniform X).
    assert chi_square(Counter(x for b in cross for _, x, _ in b), languages) < CHI2_CRIT_P001[df]
    assert chi_square(Counter(y for b in cross for _, _, y in b), languages) < CHI2_CRIT_P001[df]
    # Given X, Y is uniform over the 12 others (pooled over X: the pair (X, Y) counts are flat).
    pairs = Counter((x, y) for b in cross for _, x, y in b)
    assert len(pairs) == len(languages) * (len(languages) - 1)
    expected = sum(pairs.values()) / len(pairs)
    assert max(pairs.values()) < 2 * expected and min(pairs.values()) > expected / 2


def test_sampler_alpha_extremes(xnli_split) -> None:
    train_set, _ = xnli_split
    only_mono = take(HybridBatchSampler(train_set, train_set.languages, 16, 1.0, seed=0), 200)
    only_cross = take(HybridBatchSampler(train_set, train_set.languages, 16, 0.0, seed=0), 200)
    assert all(all(x == y for _, x, y in b) and len({x for _, x, _ in b}) == 1 for b in only_mono)
    assert all(x != y for b in only_cross for _, x, y in b)
    # alpha = 1 works with one language; alpha < 1 needs two.
    take(HybridBatchSampler(train_set, ["en"], 16, 1.0), 3)
    with pytest.raises(ReproError, match="at least 2 languages"):
        HybridBatchSampler(train_set, ["en"], 16, 0.5)


def test_sampler_epoch_covers_every_example_once_without_group_repeats(xnli_split) -> None:
    train_set, _ = xnli_split
    sampler = HybridBatchSampler(train_set, train_set.languages, 64, 0.5, seed=1)
    for epoch in (0, 1):
        plan = sampler.epoch_plan(epoch)
        indices = np.concatenate(plan)
        assert sorted(indices.tolist()) == list(range(len(train_set)))
        for batch in plan:
            groups = train_set.group_index[batch]
            assert len(set(groups.tolist())) == len(batch)
        assert all(len(b) == 64 for b in plan[:-2])  # deferral keeps batches full until the end
    # Iteration follows the plan and rolls over into the next epoch.
    n = len(sampler.epoch_plan(0))
    batches = take(sampler, n + 1)
    assert [i for i, _, _ in batches[0]] == sampler.epoch_plan(0)[0].tolist()
    assert [i for i, _, _ in batches[n]] == sampler.epoch_plan(1)[0].tolist()
    assert sampler.state_dict()["epoch"] == 1 and sampler.state_dict()["batch"] == 1


def test_sampler_defers_instead_of_dropping_large_groups() -> None:
    # 10 examples of one group and 5 singletons, batch 4: the big group needs 10 batches.
    examples = [Example(f"g{i}", "big", {"en": ("q", "p"), "de": ("q", "p")}) for i in range(10)]
    examples += [Example(f"s{i}", f"s{i}", {"en": ("q", "p"), "de": ("q", "p")}) for i in range(5)]
    sampler = HybridBatchSampler(ParallelCorpus(examples), ["en", "de"], 4, 0.5, seed=0)
    plan = sampler.epoch_plan(0)
    assert sorted(np.concatenate(plan).tolist()) == list(range(15))
    assert all(sum(1 for i in batch if i < 10) <= 1 for batch in plan)
    assert len(plan) >= 10  # one batch per example of the big group, at least


def test_sampler_is_deterministic(xnli_split) -> None:
    train_set, _ = xnli_split
    a = take(HybridBatchSampler(train_set, train_set.languages, 32, 0.5, seed=7), 30)
    b = take(HybridBatchSampler(train_set, train_set.languages, 32, 0.5, seed=7), 30)
    c = take(HybridBatchSampler(train_set, train_set.languages, 32, 0.5, seed=8), 30)
    assert a == b
    assert a != c


@pytest.mark.parametrize("stop_at", [1, 137, 211, 300])  # 211 batches per epoch: mid-epoch, boundary, next epoch
def test_sampler_resume_equals_uninterrupted(xnli_split, stop_at: int) -> None:
    train_set, _ = xnli_split
    langs = train_set.languages
    full = take(HybridBatchSampler(train_set, langs, 32, 0.4, seed=5), 400)
    first = HybridBatchSampler(train_set, langs, 32, 0.4, seed=5)
    head = take(first, stop_at)
    state = json.loads(json.dumps(first.state_dict()))  # survives a JSON round trip (it is saved as JSON)
    resumed = HybridBatchSampler(train_set, langs, 32, 0.4, seed=5)
    resumed.load_state_dict(state)
    assert head + take(resumed, 400 - stop_at) == full
    other = HybridBatchSampler(train_set, langs, 32, 0.5, seed=5)
    with pytest.raises(ReproError, match="alpha"):
        other.load_state_dict(state)


# --- loss -------------------------------------------------------------------------------------


def unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True)


def test_infonce_equals_hand_computation() -> None:
    torch.manual_seed(0)
    q, p = unit(torch.randn(4, 8)), unit(torch.randn(4, 8))
    t = 0.05
    sims = (q @ p.T).tolist()

    def direction(matrix: list[list[float]]) -> float:
        losses = []
        for i, row in enumerate(matrix):
            logits = [s / t for s in row]
            log_z = math.log(sum(math.exp(v) for v in logits))
            losses.append(log_z - logits[i])
        return sum(losses) / len(losses)

    forward = direction(sims)
    backward = direction([list(col) for col in zip(*sims)])
    assert InfoNCELoss(t)(q, p).item() == pytest.approx(forward, rel=1e-5)
    assert InfoNCELoss(t, symmetric=True)(q, p).item() == pytest.approx((forward + backward) / 2, rel=1e-5)
    # Normalisation happens inside: scaled inputs give the same (cosine) loss.
    assert InfoNCELoss(t)(3 * q, 0.5 * p).item() == pytest.approx(forward, rel=1e-5)


def test_infonce_lower_when_positives_align() -> None:
    torch.manual_seed(1)
    p = unit(torch.randn(8, 16))
    aligned = unit(p + 0.1 * torch.randn(8, 16))
    shuffled = aligned[torch.randperm(8)]
    loss = InfoNCELoss(0.05)
    assert loss(aligned, p) < 0.1 < loss(shuffled, p)
    assert InfoNCELoss(0.05, symmetric=True)(aligned, p) < InfoNCELoss(0.05, symmetric=True)(shuffled, p)


# --- length-grouped forward passes ------------------------------------------------------------


def test_forward_groups_minimise_padding_plus_cost() -> None:
    lengths = [90, 88, 60, 30, 30, 12, 12, 12]
    assert forward_groups(lengths, None) == [(0, 8)]
    assert forward_groups([], 32) == []
    assert forward_groups(lengths, 10**9) == [(0, 8)]  # passes so dear that one is best
    assert forward_groups(lengths, 0) == [(0, 1), (1, 2), (2, 3), (3, 5), (5, 8)]  # free passes: no padding at all
    groups = forward_groups(lengths, 32)
    assert groups[0][0] == 0 and groups[-1][1] == 8 and all(a[1] == b[0] for a, b in itertools.pairwise(groups))

    def cost(gs):
        return sum(lengths[a] * (b - a) + 32 for a, b in gs)

    # Exhaustive check against every contiguous cut of the 8 texts.

    cuts = [
        [(a, b) for a, b in zip((0, *c), (*c, 8))] for r in range(8) for c in itertools.combinations(range(1, 8), r)
    ]
    assert cost(groups) == min(cost(c) for c in cuts)


# --- a tiny model: trainer tests that take seconds ------------------------------------------------

FORWARD_TEXTS = [
    "query: Wo ist der Bahnhof?",
    "passage: " + "Der Bahnhof liegt im Norden der Stadt. " * 6,
    "query: x",
    "passage: La estación está en el norte de la ciudad, cerca del río.",
    "query: Où est la gare ?",
]


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for the trainer tests: on a shared 2-core box an oversubscribed second
    thread made each step ~15x slower; determinism does not depend on it."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory, xnli: ParallelCorpus) -> Path:
    """300 XNLI examples (100 premises) in four languages, as JSONL."""
    path = tmp_path_factory.mktemp("corpus") / "tiny.jsonl"
    save_jsonl_corpus(xnli.subset(range(300)).with_languages(["en", "de", "fr", "es"]), path)
    return path


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, tiny_corpus: Path) -> Path:
    """A randomly initialised 2-layer, 16-dim XLM-R with a 2,000-piece WordPiece vocabulary
    learnt from the tiny corpus, as a HF folder (e5's 250k-piece tokenizer alone takes seconds to load)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    corpus = load_jsonl_corpus(tiny_corpus)
    texts = [text for example in corpus for pair in example.texts.values() for text in pair]
    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.pre_tokenizer = pre_tokenizers.Whitespace()
    wordpiece.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=2000, special_tokens=["[PAD]", "[UNK]"]))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=wordpiece, unk_token="[UNK]", pad_token="[PAD]")
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=80,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny") / "tiny-model"
    XLMRobertaModel(config, add_pooling_layer=False).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny(tiny_model: Path, tiny_corpus: Path) -> dict:
    """A config a tiny model trains in seconds; lr high enough that every step moves the weights visibly."""
    return dict(
        model=str(tiny_model),
        corpus=str(tiny_corpus),
        steps=6,
        batch_size=8,
        max_length=32,
        val_pairs=16,
        eval_every=2,
        checkpoint_every=2,
        seed=11,
        lr=1e-3,
    )


def hand_embeddings(model: torch.nn.Module, tokenizer, texts: list[str], max_length: int) -> np.ndarray:
    """Mean pooling by hand: each text alone (no padding at all), mean of its token states, unit norm."""
    rows = []
    with torch.inference_mode():
        for text in texts:
            ids = tokenizer(text, truncation=True, max_length=max_length, return_tensors="pt")["input_ids"]
            hidden = model(input_ids=ids).last_hidden_state[0].double().numpy()
            mean = hidden.mean(axis=0)
            rows.append(mean / np.linalg.norm(mean))
    return np.array(rows)


def test_length_grouped_forward_equals_one_padded_forward(tiny_model: Path, one_thread) -> None:
    from repro.models.encoder import load_model

    tokenizer, model = load_model(str(tiny_model), str(tiny_model))
    model.eval()
    cpu = torch.device("cpu")
    with torch.inference_mode():
        grouped = embed_texts(model, tokenizer, FORWARD_TEXTS, 64, cpu, None, 0.0)
        single = embed_texts(model, tokenizer, FORWARD_TEXTS, 64, cpu, None, None)
    lengths = sorted((len(ids) for ids in tokenizer(FORWARD_TEXTS)["input_ids"]), reverse=True)
    assert len(forward_groups(lengths, 0.0)) > 1  # the grouped path really cuts the batch
    assert grouped.shape == (5, 16)
    np.testing.assert_allclose(grouped.numpy(), hand_embeddings(model, tokenizer, FORWARD_TEXTS, 64), atol=1e-5)
    np.testing.assert_allclose(single.numpy(), hand_embeddings(model, tokenizer, FORWARD_TEXTS, 64), atol=1e-5)


def _loss_and_grads(model, tokenizer, texts: list[str], packed: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Embeddings of ``texts`` (eval mode: no dropout) and the gradients of a fixed loss on them."""
    model.zero_grad(set_to_none=True)
    vectors = embed_texts(model, tokenizer, texts, 64, torch.device("cpu"), None, 0.0, packed)
    InfoNCELoss(0.05)(vectors[::2][:2], vectors[1::2][:2]).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return vectors.detach(), grads


def test_packed_forward_equals_the_padded_one_and_its_gradients(tiny_model: Path, one_thread) -> None:
    """Without dropout, packed (linear layers on real tokens, attention per group) is the same
    function as one padded forward: same embeddings, same gradients, up to float rounding. The
    tiny model is an XLM-R, whose positions count from padding_idx + 1."""
    from repro.models.encoder import load_model
    from repro.models.packed import packed_unsupported

    tokenizer, model = load_model(str(tiny_model), str(tiny_model))
    assert packed_unsupported(model) is None
    model.eval()
    padded, padded_grads = _loss_and_grads(model, tokenizer, FORWARD_TEXTS, packed=False)
    packed, packed_grads = _loss_and_grads(model, tokenizer, FORWARD_TEXTS, packed=True)
    np.testing.assert_allclose(packed.numpy(), hand_embeddings(model, tokenizer, FORWARD_TEXTS, 64), atol=1e-5)
    np.testing.assert_allclose(packed.numpy(), padded.numpy(), atol=1e-6)
    assert packed_grads.keys() == padded_grads.keys() and len(packed_grads) > 10
    for name, grad in padded_grads.items():
        scale = grad.abs().max().item()
        assert scale > 0, name  # every trainable tensor gets a gradient: a real comparison
        assert (packed_grads[name] - grad).abs().max().item() <= 1e-4 * scale + 1e-9, name


def test_packed_forward_of_e5_small_equals_its_padded_forward(fetched) -> None:
    """The BERT layout (positions from 0, token type embeddings) on the real model, several attention groups."""
    from repro.models.encoder import load_model
    from repro.models.registry import resolve_model

    tokenizer, model = load_model("e5-small", resolve_model("e5-small"))
    model.eval()
    cpu = torch.device("cpu")
    with torch.inference_mode():
        padded = embed_texts(model, tokenizer, FORWARD_TEXTS, 64, cpu, None, None)
        packed = embed_texts(model, tokenizer, FORWARD_TEXTS, 64, cpu, None, 0.0, True)
    assert packed.shape == (5, 384)
    np.testing.assert_allclose(packed.numpy(), padded.numpy(), atol=2e-6)


def test_packed_rejects_models_not_laid_out_as_bert(tmp_path: Path) -> None:
    from transformers import DistilBertConfig, DistilBertModel, XLMRobertaConfig, XLMRobertaModel

    from repro.models.packed import packed_unsupported

    small = dict(vocab_size=50, max_position_embeddings=16)
    distil = DistilBertModel(DistilBertConfig(dim=8, hidden_dim=16, n_layers=1, n_heads=2, **small))
    assert "not laid out as a BERT encoder" in packed_unsupported(distil)
    decoder = XLMRobertaModel(
        XLMRobertaConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16, **small)
    )
    decoder.config.is_decoder = True
    assert "is a decoder" in packed_unsupported(decoder)


def test_dropout16_keeps_the_stated_fraction_unbiased_and_seeded() -> None:
    from repro.models.packed import dropout16

    n, p = 400_000, 0.1
    keep = round((1 - p) * 2**16) / 2**16
    torch.manual_seed(3)
    x = torch.rand(n) + 0.5
    out = dropout16(x, p, training=True)
    kept = out != 0
    # The kept fraction is Binomial(n, keep) / n: within 5 standard errors (a false alarm ~1e-6).
    assert abs(kept.float().mean().item() - keep) < 5 * math.sqrt(keep * (1 - keep) / n)
    assert abs(keep - (1 - p)) <= 2**-17
    torch.testing.assert_close(out[kept], x[kept] / keep, rtol=1e-6, atol=0)  # kept ones scaled by 1 / keep
    # Unbiased: the mean of dropout16(x) estimates the mean of x (5 standard errors again).
    assert abs(out.mean().item() - x.mean().item()) < 5 * out.std().item() / math.sqrt(n)
    # Masks come from torch's generator: the same seed, the same mask; independent of the values.
    torch.manual_seed(3)
    torch.rand(n)
    assert torch.equal(dropout16(x * 2, p, training=True) != 0, kept)
    assert not torch.equal(dropout16(x, p, training=True) != 0, kept)
    assert dropout16(x, p, training=False) is x and dropout16(x, 0.0, training=True) is x
    assert not dropout16(x, 1.0, training=True).any()
    # Masks of neighbouring elements are independent: 2x2 contingency of pairs (i, i + 1).
    a, b = kept[:-1:2], kept[1::2]
    both = (a & b).float().mean().item()
    assert abs(both - keep**2) < 5 * math.sqrt(keep**2 * (1 - keep**2) / len(a))


class Interrupt(Exception):
    pass


@dataclass
class Run:
    """What a training run did, as its ``on_step`` callback saw it."""

    summary: dict | None = None
    final: dict[str, torch.Tensor] = field(default_factory=dict)  # weights after the last step
    weights: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)  # after each step, if kept
    losses: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)


def run(out_dir: Path, config: TrainConfig, stop_at: int | None = None, keep_weights: bool = False) -> Run:
    """Train (raising :class:`Interrupt` after step ``stop_at``); return what happened."""
    result = Run()

    def on_step(step: int, loss: float, model: torch.nn.Module) -> None:
        result.losses.append(loss)
        result.steps.append(step)
        if step == stop_at:
            raise Interrupt
        weights = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
        if keep_weights:
            result.weights[step] = weights
        if step == config.steps:
            result.final.update(weights)

    result.summary = train(config, out_dir, progress=False, on_step=on_step)
    return result


def saved_weights(out_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(out_dir / "model" / "model.safetensors")


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys() and a
    assert all(torch.equal(a[name], b[name]) for name in a)


@pytest.fixture(scope="module")
def tiny_reference(tmp_path_factory, tiny: dict, one_thread) -> tuple[Path, Run]:
    out = tmp_path_factory.mktemp("train") / "tiny-reference"
    return out, run(out, TrainConfig(**tiny), keep_weights=True)


def test_training_writes_model_and_summary(tiny_reference, tiny: dict) -> None:
    out, ref = tiny_reference
    summary = ref.summary
    assert summary["steps_done"] == 6 and ref.steps == [1, 2, 3, 4, 5, 6]
    assert [e["step"] for e in summary["evals"]] == [0, 2, 4, 6]
    # train_loss of an evaluation: the mean of the steps' losses since the previous one.
    assert [e["train_loss"] for e in summary["evals"][1:]] == pytest.approx(
        [sum(ref.losses[i : i + 2]) / 2 for i in (0, 2, 4)], rel=1e-12
    )
    best = min(summary["evals"], key=lambda e: e["val_loss"])
    assert (summary["best_step"], summary["best_val_loss"]) == (best["step"], best["val_loss"])
    assert summary["languages"] == ["de", "en", "es", "fr"] and summary["holdout_languages"] == []
    assert summary["pairs_done"] == 6 * 8 and summary["epochs"] == 48 / summary["train_examples"]
    assert summary["pairs_per_second"] == summary["pairs_done"] / summary["train_seconds"]
    assert summary["resumed_at_step"] is None and not summary["stopped_early"]
    assert not (out / "checkpoint").exists()
    record = json.loads((out / "train.json").read_text(encoding="utf-8"))
    assert record["config"] == TrainConfig(**tiny).model_dump() and record["summary"]["evals"] == summary["evals"]
    info = json.loads((out / "model" / "training_info.json").read_text(encoding="utf-8"))
    assert info["pooling"] == "mean" and info["best_step"] == summary["best_step"]
    with pytest.raises(ReproError, match="finished training run"):
        train(TrainConfig(**tiny), out, progress=False)


def test_saved_model_holds_the_weights_of_the_best_evaluation(tiny_reference, tiny: dict) -> None:
    out, ref = tiny_reference
    best_step = ref.summary["best_step"]
    base = load_file(Path(tiny["model"]) / "model.safetensors")
    best = ref.weights[best_step] if best_step else {name: base[name] for name in ref.final}
    saved = saved_weights(out)
    assert_same_weights({name: saved[name] for name in best}, best)
    # The frozen word embeddings are the base model's.
    assert torch.equal(saved["embeddings.word_embeddings.weight"], base["embeddings.word_embeddings.weight"])


def test_encoder_of_the_trained_model_pools_like_training(tiny_reference, one_thread) -> None:
    """One pooling for training and encoding: the Encoder, the trainer's forward and a hand mean agree."""
    from repro.models.encoder import Encoder, load_model

    out = tiny_reference[0]
    encoder = Encoder(str(out / "model"), device="cpu", precision="fp32", max_length=64, query_prefix="")
    vectors = encoder.encode(FORWARD_TEXTS, "query", progress=False)
    tokenizer, model = load_model(str(out / "model"), str(out / "model"))
    model.eval()
    with torch.inference_mode():
        trained = embed_texts(model, tokenizer, FORWARD_TEXTS, 64, torch.device("cpu"), None, CPU_FORWARD_COST_TOKENS)
    hand = hand_embeddings(model, tokenizer, FORWARD_TEXTS, 64)
    np.testing.assert_allclose(vectors, hand, atol=1e-5)
    np.testing.assert_allclose(trained.numpy(), hand, atol=1e-5)


def test_same_config_and_seed_give_identical_weights(tiny_reference, tiny: dict, tmp_path: Path) -> None:
    out, ref = tiny_reference
    again = run(tmp_path / "again", TrainConfig(**tiny))
    assert again.losses == ref.losses
    assert again.summary["evals"] == ref.summary["evals"]
    assert_same_weights(again.final, ref.final)
    assert_same_weights(saved_weights(tmp_path / "again"), saved_weights(out))
    # Not trivially equal: every trainable tensor moved away from the base model.
    base = load_file(Path(tiny["model"]) / "model.safetensors")
    assert all(not torch.equal(ref.final[name], base[name]) for name in ref.final)


def test_different_seed_gives_a_different_run(tiny_reference, tiny: dict, tmp_path: Path, monkeypatch) -> None:
    """Another seed: another split, other batches, other losses, other weights."""
    from repro.training import trainer

    trained_on: list[tuple[list[str], list[str]]] = []

    class Recording(trainer.PairEmbedder):
        def __call__(self, queries, passages):
            if self.model.training:  # a training batch (validation runs in eval mode)
                trained_on.append((list(queries), list(passages)))
            return super().__call__(queries, passages)

    monkeypatch.setattr(trainer, "PairEmbedder", Recording)
    same = run(tmp_path / "same", TrainConfig(**tiny))
    same_batches = list(trained_on)
    trained_on.clear()
    other = run(tmp_path / "other", TrainConfig(**{**tiny, "seed": 12}))

    _, ref = tiny_reference
    assert same.losses == ref.losses and len(same_batches) == len(trained_on) == 6  # the recording changes nothing
    assert all(a != b for a, b in zip(same_batches, trained_on))
    assert all(a != b for a, b in zip(other.losses, ref.losses))
    assert other.summary["evals"][0]["val_loss"] != ref.summary["evals"][0]["val_loss"]  # other validation pairs
    assert all(not torch.equal(other.final[name], ref.final[name]) for name in ref.final)


def test_interrupted_run_resumes_from_its_checkpoint(tiny_reference, tiny: dict, tmp_path: Path) -> None:
    """Killed after step 3 (last checkpoint: step 2), a rerun continues at step 3 with the saved
    optimizer, schedule, sampler and RNG states, and ends where an uninterrupted run ends."""
    out, ref = tiny_reference
    target = tmp_path / "interrupted"
    with pytest.raises(Interrupt):
        run(target, TrainConfig(**tiny), stop_at=3)
    checkpoint = target / "checkpoint"
    state = json.loads((checkpoint / "state.json").read_text(encoding="utf-8"))
    assert state["progress"]["step"] == 2 and state["sampler"]["epoch"] == 0 and state["sampler"]["batch"] == 2
    trainer_state = torch.load(checkpoint / "trainer.pt", weights_only=True)
    assert {float(s["step"]) for s in trainer_state["optimizer"]["state"].values()} == {2.0}
    assert trainer_state["scheduler"]["last_epoch"] == 2
    with pytest.raises(ReproError, match="lr="):
        train(TrainConfig(**{**tiny, "lr": 1e-4}), target, progress=False)

    # A control: the same checkpoint with the optimizer's moments dropped resumes to other weights,
    # so the equality below needs the optimizer state restored, not just the model.
    control = tmp_path / "control"
    shutil.copytree(target, control)
    trainer_state["optimizer"]["state"] = {}
    torch.save(trainer_state, control / "checkpoint" / "trainer.pt")

    resumed = run(target, TrainConfig(**tiny))
    assert resumed.summary["resumed_at_step"] == 2
    assert resumed.steps == [3, 4, 5, 6]  # continued, not restarted
    assert resumed.losses == ref.losses[2:]
    assert resumed.summary["evals"] == ref.summary["evals"]
    assert resumed.summary["pairs_done"] == ref.summary["pairs_done"]
    assert_same_weights(resumed.final, ref.final)
    assert_same_weights(saved_weights(target), saved_weights(out))
    assert not checkpoint.exists()

    without_moments = run(control, TrainConfig(**tiny))
    assert without_moments.steps == [3, 4, 5, 6]
    assert without_moments.losses[0] == ref.losses[2]  # step 3 starts from the restored weights...
    assert without_moments.losses[1:] != ref.losses[3:]  # ...then fresh moments take other steps
    assert not all(torch.equal(without_moments.final[name], ref.final[name]) for name in ref.final)


def test_packed_training_is_seeded_resumable_and_keyed_apart(tiny_reference, tiny: dict, tmp_path: Path) -> None:
    """packed: true trains other weights than the padded forward (other dropout draws), the same
    weights for the same seed, and an interrupted packed run resumes to them (the checkpoint's RNG
    state decides the 16-bit masks too). Its key differs; packed: false keys as before the field."""
    config = TrainConfig(**{**tiny, "packed": True})
    ref = run(tmp_path / "packed", config)
    _, padded = tiny_reference
    assert ref.losses[0] != padded.losses[0]  # dropout is on: other masks, another first loss
    # Step 0's validation (eval mode, no dropout) scores the same model: equal up to float rounding.
    assert ref.summary["evals"][0]["val_loss"] == pytest.approx(padded.summary["evals"][0]["val_loss"], rel=1e-6)
    with pytest.raises(Interrupt):
        run(tmp_path / "interrupted", config, stop_at=3)
    resumed = run(tmp_path / "interrupted", config)
    assert resumed.summary["resumed_at_step"] == 2 and resumed.losses == ref.losses[2:]
    assert_same_weights(resumed.final, ref.final)
    assert "packed" not in TrainConfig(**tiny).key_dump() and config.key_dump()["packed"] is True
    assert TrainConfig(**tiny).key_dump() == {
        k: v for k, v in TrainConfig(**tiny).model_dump().items() if k != "packed"
    }


def test_packed_training_refuses_an_unsupported_model(tmp_path: Path, tiny: dict, tiny_model: Path) -> None:
    from transformers import DistilBertConfig, DistilBertModel, PreTrainedTokenizerFast

    folder = tmp_path / "distil"
    tokenizer = PreTrainedTokenizerFast.from_pretrained(tiny_model)
    DistilBertModel(
        DistilBertConfig(vocab_size=len(tokenizer), dim=8, hidden_dim=16, n_layers=1, n_heads=2, pad_token_id=0)
    ).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    with pytest.raises(
        ReproError, match="packed training needs a BERT-family encoder: DistilBertModel .*packed: false"
    ):
        train(TrainConfig(**{**tiny, "model": str(folder), "packed": True}), tmp_path / "out", progress=False)


def test_a_swap_killed_midway_is_recovered(tiny_reference, tiny: dict, tmp_path: Path) -> None:
    """A run killed between the two renames of a checkpoint swap left only ``.checkpoint.old``: it is put back."""
    target = tmp_path / "swap"
    with pytest.raises(Interrupt):
        run(target, TrainConfig(**tiny), stop_at=3)
    (target / "checkpoint").rename(target / ".checkpoint.old")
    (target / ".checkpoint.tmp-999").mkdir()  # and a half-written next one
    resumed = run(target, TrainConfig(**tiny))
    assert resumed.summary["resumed_at_step"] == 2 and resumed.losses == tiny_reference[1].losses[2:]
    assert not (target / ".checkpoint.old").exists() and not (target / ".checkpoint.tmp-999").exists()


def test_early_stopping_counts_evaluations_without_improvement() -> None:
    state = Progress()
    kept = []
    for step, val_loss in enumerate([1.0, 0.8, 0.9, 0.7, 0.75, 0.71]):
        state.step = step
        state.loss_sum, state.loss_count = 2.0 * step, step
        kept.append(state.record_eval(val_loss, patience=2))
        assert not state.stopped_early or step == 5
    assert kept == [True, True, False, True, False, False]
    assert state.stopped_early and (state.best_step, state.best_val_loss) == (3, 0.7)
    assert [e["train_loss"] for e in state.evals] == [None, 2.0, 2.0, 2.0, 2.0, 2.0]
    assert state.loss_count == 0 and state.loss_sum == 0.0


# --- the trainer on the real e5-small (slow) ------------------------------------------------------

TINY_E5 = dict(
    steps=4,
    batch_size=4,
    max_length=32,
    val_pairs=8,
    eval_every=2,
    checkpoint_every=2,
    seed=11,
    holdout_languages=["el", "vi"],
)


@pytest.fixture(scope="module")
def e5_reference(tmp_path_factory, fetched, one_thread) -> tuple[Path, Run]:
    out = tmp_path_factory.mktemp("train") / "e5-reference"
    return out, run(out, TrainConfig(**TINY_E5))


@pytest.mark.slow
def test_e5_training_summary_and_saved_model(e5_reference) -> None:
    from repro.models.encoder import Encoder

    out, ref = e5_reference
    assert ref.summary["steps_done"] == 4 and [e["step"] for e in ref.summary["evals"]] == [0, 2, 4]
    assert ref.summary["languages"] == ["ar", "bg", "de", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "zh"]
    assert ref.summary["holdout_languages"] == ["el", "vi"]
    info = json.loads((out / "model" / "training_info.json").read_text(encoding="utf-8"))
    assert (info["query_prefix"], info["passage_prefix"]) == ("query: ", "passage: ")
    # The fine-tuned folder keeps its prefixes (training_info.json) and still matches translations.
    encoder = Encoder(str(out / "model"), device="cpu", precision="fp32", max_length=32)
    assert (encoder.query_prefix, encoder.passage_prefix) == ("query: ", "passage: ")
    vectors = encoder.encode(["Wie spät ist es?", "What time is it?", "Das Haus ist rot."], "query", progress=False)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])


@pytest.mark.slow
def test_e5_interrupted_run_resumes_to_identical_weights(e5_reference, tmp_path: Path) -> None:
    out, ref = e5_reference
    target = tmp_path / "interrupted"
    with pytest.raises(Interrupt):
        run(target, TrainConfig(**TINY_E5), stop_at=3)  # dies after step 3; last checkpoint: step 2
    resumed = run(target, TrainConfig(**TINY_E5))
    assert resumed.summary["resumed_at_step"] == 2 and resumed.steps == [3, 4]
    assert resumed.losses == ref.losses[2:]
    assert resumed.summary["evals"] == ref.summary["evals"]
    assert_same_weights(resumed.final, ref.final)
    assert_same_weights(saved_weights(target), saved_weights(out))


@pytest.mark.slow
def test_e5_early_stopping_keeps_best_model(tmp_path: Path, fetched, one_thread) -> None:
    # A huge lr without warm-up wrecks the model at step 1: validation loss rises, patience 1 stops.
    config = TrainConfig(
        **{
            **TINY_E5,
            "lr": 5e-3,
            "warmup_ratio": 0.0,
            "eval_every": 1,
            "early_stopping_patience": 1,
            "checkpoint_every": 0,
        }
    )
    result = run(tmp_path / "early", config)
    summary = result.summary
    assert summary["stopped_early"] and summary["steps_done"] == 1 and result.steps == [1]
    assert summary["best_step"] == 0
    assert summary["evals"][1]["val_loss"] > summary["evals"][0]["val_loss"]
    # The best model is the untouched base (only the word embeddings were frozen; all else moved).
    from repro.models.registry import resolve_model

    base = load_file(Path(resolve_model("e5-small")) / "model.safetensors")
    saved = saved_weights(tmp_path / "early")
    assert saved.keys() == base.keys()
    assert all(torch.equal(saved[name], base[name]) for name in base)


# --- configuration errors -------------------------------------------------------------------------


def test_config_errors_are_one_line() -> None:
    with pytest.raises(ReproError, match="batch_size"):
        TrainConfig.from_mapping({"batch_size": 1})
    with pytest.raises(ReproError, match="precision"):
        TrainConfig.from_mapping({"precision": "int8"})
    with pytest.raises(ReproError, match="unknown"):
        TrainConfig.from_mapping({"unknown": 1})


def test_train_rejects_bad_inputs_before_loading_the_model(tmp_path: Path, fetched) -> None:
    with pytest.raises(ReproError, match="does not exist"):
        train(TrainConfig(corpus=str(tmp_path / "nope.jsonl")), tmp_path / "a", progress=False)
    with pytest.raises(ReproError, match="fewer than val_pairs"):
        train(TrainConfig(val_fraction=0.01, val_pairs=1000), tmp_path / "b", progress=False)
    with pytest.raises(ReproError, match="at least 2 languages"):
        train(
            TrainConfig(holdout_languages=[lang for lang in xnli_corpus().languages if lang != "en"]),
            tmp_path / "c",
            progress=False,
        )
