"""The text check: supported / contradicted / not found, numbers, calibration on labelled pairs, NLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import require

from bench.text_support_fit import evaluate, fit, judge_pairs, load_pairs
from repro.checks.base import CheckResult, Verdict
from repro.checks.text import TextCheck
from repro.checks.text_support import support_model
from repro.checks.text_support.numbers_match import match_numbers
from repro.checks.text_support.search import SUPPORTED_AT, find_support, passages_of, typed_names
from repro.checks.text_support.support_model import judge, support_probability
from repro.claims.registry import Claim, Paper, Registry, load_registry
from repro.claims.verify import claim_verdict
from repro.errors import MissingComponent, ReproError
from repro.sources.loader import load_document
from repro.sources.pdf import parse_pdf
from repro.sources.quantities import quantities, stated_pairs
from repro.sources.sentences import iter_sentences
from repro.sources.vocabulary import Entity, Vocabulary, document_names, load_vocabulary
from tests.paper_fixtures import CLAIM, make_paper

REPO = Path(__file__).resolve().parents[1]
MIRROR = REPO.parent / "shared" / "papers" / "2408.10536-openreview.md"
PAIRS = REPO / "tests" / "data" / "text_support_pairs.yaml"
# The seed paper's own method names come from its registry's vocabulary, not the shared one.
HYBRID = load_registry(REPO / "claims" / "hybrid.yaml").vocab(REPO / "claims" / "hybrid.yaml")


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory):
    return parse_pdf(make_paper(tmp_path_factory.mktemp("ts") / "paper.pdf"))


@pytest.fixture(scope="module")
def encoder():
    from repro.models.encoder import Encoder

    try:
        return Encoder("e5-small", max_length=128, batch_size=32)
    except MissingComponent as exc:  # no prepared model here; any other error is a failure
        require(False, f"the e5-small encoder ({exc})", "make model prepares it")


@pytest.fixture(scope="module")
def mirror():
    require(MIRROR.is_file(), f"the papers mirror ({MIRROR})", "put the offline mirror at ../shared")
    return load_document(MIRROR)


def _features(**kw) -> dict[str, float]:
    base = {"bias": 1.0, "alignment": 0.9, "proximity": 0.9, "cosine": 0.05, "novel_run": 0.0}
    return {**base, **kw}


def test_probability_rises_with_evidence_and_falls_with_cues() -> None:
    for enc in (True, False):
        p = support_probability(_features(), enc)
        assert p > SUPPORTED_AT
        assert support_probability(_features(alignment=0.3, proximity=0.2), enc) < p
        assert support_probability(_features(novel_run=1.0), enc) < p
        assert support_probability(_features(cue=1.0), enc) < SUPPORTED_AT
        # Evidence against support never raises it (the fit leaves out a feature fitted with the wrong sign).
        assert support_probability(_features(numbers_missing=1.0), enc) <= p
        assert support_probability(_features(names_missing=1.0), enc) < p
    assert support_probability(_features(cosine=0.1), True) > support_probability(_features(cosine=-0.1), True)
    # The NLI head's entailment raises the support of a passage in other words.
    assert support_probability(_features(entailment=0.5), True) > support_probability(_features(entailment=-0.3), True)


# ------------------------------------------------------------------ numbers in prose
def test_quantities_units_parameters_and_what_is_not_a_number() -> None:
    qs = quantities(
        "We fine-tune with weight decay set to 1e-2, a learning rate of 3e-5, and a batch size of 100 "
        "(Loshchilov & Hutter, 2018) on nine languages, see Table 3 and Section 4.2; XLM-R uses R@10."
    )
    got = [(q.value, q.unit, q.name) for q in qs]
    assert got == [
        (pytest.approx(0.01), None, "weight_decay"),
        (pytest.approx(3e-5), None, "learning_rate"),
        (100.0, None, "batch_size"),
        (9.0, "language", None),
    ]
    # Coordinated counts share their noun; a footnote marker glued to a full stop is no number.
    qs = quantities("XQuAD-R and MLQA-R (Roy et al., 2020).2 cover 11 and 7 parallel languages, 3 seeds")
    assert [(q.value, q.unit, q.name) for q in qs] == [
        (11.0, "language", None),
        (7.0, "language", None),
        (3.0, "seed", "seeds"),
    ]
    assert [q.value for q in quantities("3 of 2–4 answers, over 186K pairs")] == [3.0, 2.0, 4.0, 186000.0]
    assert quantities("over 186K pairs")[0].approximate


def test_relative_change_is_recomputed_from_the_stated_pair() -> None:
    passage = (
        "In Table 1, the proposed method achieves a mean rank distance of 286.6 using XLM-R, "
        "compared to 410.2 for X-X-mono, representing a 30.1% reduction in language bias."
    )
    ((a, b),) = stated_pairs(passage)
    assert (a.value, b.value) == (286.6, 410.2)
    # Only the recomputation supports 30 % here: the passage's own 30.1 % is removed.
    bare = passage.replace(", representing a 30.1% reduction in language bias", "")
    expected = (410.2 - 286.6) / 410.2 * 100  # 30.13 %
    assert round(expected, 1) == 30.1
    m = match_numbers("reduces the mean rank distance by 30%", bare)
    assert m.status == "match" and "recomputed" in m.matched[0][1]
    m = match_numbers("reduces the mean rank distance by 50%", bare)
    assert m.status == "mismatch" and "30.1%" in m.explain()
    # Precision decides: "30%" covers 30.1 %, "30.5%" does not.
    assert match_numbers("a 30.5% reduction", bare).status == "mismatch"
    # Direction: an increase of 21 % is not a 21 % reduction.
    m = match_numbers("increases the rank distance by 30.1%", passage)
    assert m.status == "mismatch" and "increase" in m.explain()


def test_numbers_absent_are_never_supported_on_overlap() -> None:
    passage = "We fine-tune pre-trained models using AdamW with a learning rate of 3e-5 and a batch size of 100."
    j = judge("We fine-tune pre-trained models using AdamW for 10 epochs.", passage, vocab=HYBRID)
    assert j.numbers.status == "absent" and j.verdict == "not stated"
    j = judge("We fine-tune pre-trained models using AdamW with a batch size of 32.", passage, vocab=HYBRID)
    assert j.verdict == "contradicted" and "32" in j.reason and "100" in j.reason
    j = judge(
        "Pre-trained models are fine-tuned with AdamW, learning rate 3e-5, batch size 100.", passage, vocab=HYBRID
    )
    assert j.verdict == "supported"


# ------------------------------------------------------------------ one passage, each kind of contradiction
@pytest.mark.parametrize(
    ("claim", "passage", "verdict", "why"),
    [
        (
            "Experiments were not conducted on the MIRACL dataset.",
            "Experiments on XQuAD-R, MLQA-R, and MIRACL benchmark datasets show strong results.",
            "contradicted",
            "negation",
        ),
        (
            "The models are evaluated on datasets that were also used for training.",
            "These evaluation datasets were not used during the training phase of the models.",
            "contradicted",
            "negation",
        ),
        (
            "The approach fine-tunes language models using only monolingual question-answer batches.",
            "The approach fine-tunes language models using a mix of monolingual and cross-lingual question-answer batches.",
            "contradicted",
            "only against a mix",
        ),
        (
            "For XLM-R, the proposed approach reduces the mean rank distance by 15.4%.",
            "For LaBSE, the proposed approach reduces the mean rank distance by 15.4% (from 261.5 to 221.1).",
            "contradicted",
            "swapped method",
        ),
        (
            "X-X-mono significantly outperforms the proposed method.",
            "The proposed method significantly outperforms the X-X-mono approach.",
            "contradicted",
            "roles swapped",
        ),
        (
            "Hybrid batch training increases language bias compared to monolingual training.",
            "Hybrid batch training substantially reduces language bias compared to monolingual training.",
            "contradicted",
            "opposite words",
        ),
        (
            "In monolingual retrieval the proposed method outperforms X-X-mono in all languages.",
            "In monolingual retrieval the proposed method tends to outperform X-X-mono for most languages.",
            "contradicted",
            "all against some",
        ),
        (
            "The X-Y baseline has a lower mean rank distance than the proposed method on MLQA-R.",
            "On MLQA-R the proposed method has a slightly higher mean rank distance than the X-Y baseline.",
            "supported",
            "",
        ),
        (
            "Is there a way to train without new loss functions?",
            "Is there a straightforward approach that needs no new loss functions?",
            "not stated",
            "",
        ),
    ],
)
def test_judge_each_kind_of_contradiction(claim: str, passage: str, verdict: str, why: str) -> None:
    j = judge(claim, passage, vocab=HYBRID)
    assert j.verdict == verdict, (j.verdict, j.reasons, j.support)
    if why:
        assert why in j.reason, j.reasons


# ------------------------------------------------------------------ calibration on the labelled pairs
@pytest.fixture(scope="module")
def pairs(mirror):
    return load_pairs(PAIRS, mirror)


def test_labelled_pairs_are_split_by_passage(pairs) -> None:
    tune = [p for p in pairs if p.split == "tune"]
    held = [p for p in pairs if p.split == "heldout"]
    assert len(pairs) >= 120 and len(held) >= 60
    assert not {p.passage for p in tune} & {p.passage for p in held}
    for part in (tune, held):
        assert {p.label for p in part} == {"supported", "contradicted", "unstated"}
    phenomena = {p.phenomenon for p in held}
    assert {"negation", "number", "swap", "paraphrase", "quantifier", "role", "direction"} <= phenomena


def _dev_tuning(pairs, mirror) -> list:
    """The no-encoder judgements of every tuning pair: the seed paper's and the DEV papers' of other fields."""
    from bench.text_support_fit import evidence_pairs
    from repro.sources.vocabulary import document_names, load_vocabulary

    background = [s for _, s in iter_sentences(mirror)]
    scored = judge_pairs([p for p in pairs if p.split == "tune"], background, vocab=HYBRID)
    papers = REPO / "bench" / "data" / "heldout-papers"
    for paper in ("ecology-grassland", "battery-cathode", "vision-augmentation"):
        doc = load_document(papers / "papers" / f"{paper}.md")
        sentences = [s for _, s in iter_sentences(doc)]
        vocab = load_vocabulary().extended({"names": document_names(sentences, load_vocabulary())})
        scored += judge_pairs(evidence_pairs(papers / "claims" / f"{paper}.yaml", doc), sentences, vocab=vocab)
    return scored


def test_committed_coefficients_are_the_fit_on_the_tuning_pairs(pairs, mirror, tmp_path) -> None:
    from bench.text_support_fit import write_model

    scored = _dev_tuning(pairs, mirror)
    assert len(scored) == 102 + 3 * 40
    fitted = fit(scored, with_encoder=False)
    for k, v in support_model.COEF_NO_ENCODER.items():
        assert fitted["coef"][k] == pytest.approx(v, abs=0.01), k
    # The package reads what the fitting script writes, feature by feature; an unknown one is refused.
    path = write_model({"coef": support_model.COEF, "aligned_at": 0.3}, fitted, tmp_path / "m.json")
    assert support_model._load_coefficients(path) == (support_model.COEF, fitted["coef"])
    path.write_text(path.read_text().replace('"cue":', '"cues":', 1))
    with pytest.raises(ValueError, match="unknown features"):
        support_model._load_coefficients(path)
    # On gold passages a cue could count from a lower alignment; among retrieved passages (most of
    # them only near the claim) the committed threshold is the more conservative one.
    assert fitted["aligned_at"] <= support_model.ALIGNED_AT
    background = [s for _, s in iter_sentences(mirror)]
    with pytest.raises(ReproError, match="held-out pairs must stay unseen"):
        fit(judge_pairs(pairs[-3:], background, vocab=HYBRID), with_encoder=False)


def test_heldout_false_support_rate_is_at_most_five_percent(pairs, mirror, encoder) -> None:
    background = [s for _, s in iter_sentences(mirror)]
    held = [p for p in pairs if p.split == "heldout"]
    plain = evaluate(judge_pairs(held, background, vocab=HYBRID))
    assert plain.false_support <= 0.05 and plain.accuracy["supported"] >= 0.7
    # As `repro verify` judges: with the encoder's cosine and the NLI head.
    report = evaluate(judge_pairs(held, background, encoder=encoder, vocab=HYBRID))
    assert report.false_support <= 0.05, [(s.pair.id, s.judgement.verdict) for s in report.errors]
    # Calling everything "not stated" would pass the line above: each label must also be recognised.
    assert report.accuracy["supported"] >= 0.8
    assert report.accuracy["contradicted"] >= 0.8
    assert report.accuracy["unstated"] >= 0.8
    # Reliability: the pairs given a high support are mostly supported, those given a low one mostly not.
    high = [b for b in report.reliability if b[0] >= 0.6]
    low = [b for b in report.reliability if b[1] <= 0.2]
    assert all(b[3] >= 0.8 for b in high) and all(b[3] <= 0.2 for b in low)


# ------------------------------------------------------------------ the paper against the issue's claims
ISSUE_FALSE = [
    "Experiments were not conducted on the MIRACL dataset.",
    "The approach fine-tunes multilingual language models using only monolingual question-answer pair batches.",
    "The models are evaluated on datasets that were also used for training.",
    "Hybrid batch training reduces the mean rank distance by 50% compared to X-X-mono using XLM-R on XQuAD-R.",
]
HYBRID_TRUE = [
    "The approach fine-tunes multilingual language models using a mix of monolingual and cross-lingual question-answer pair b[atches].",
    "Experiments were conducted on XQuAD-R, MLQA-R, and MIRACL datasets.",
    "The mean average precision (mAP) is reported for XQuAD-R and MLQA-R.",
    "The proposed approach uses a balanced mix of monolingual and cross-lingual question-answer pair batches.",
    "The approach uses machine translation to generate parallel question-answer pairs across several languages, including low[-resource languages].",
]


def test_a_paraphrase_is_supported_through_the_nli_head_not_words_alone(encoder) -> None:
    from repro.checks.text_support.nli_head import load_head

    claim = "The models have not seen any sample of the evaluation datasets."
    passage = "The models have not encountered any data samples of the evaluation datasets during training."
    # "not seen" and "not encountered": two negated sides agree, and no cue fires.
    assert judge(claim, passage, vocab=HYBRID).reasons == []
    q = encoder.encode([claim], "query", progress=False)
    d = encoder.encode([passage], "passage", progress=False)
    probs = load_head().probabilities(q, d)[0]
    assert probs.argmax() == 0  # the head reads entailment
    j = judge(claim, passage, cosine=float(q[0] @ d[0]), vocab=HYBRID, nli=tuple(float(x) for x in probs))
    assert j.verdict == "supported" and j.reasons == []


def test_a_roadmap_sentence_supports_nothing_and_a_negated_opposite_agrees() -> None:
    roadmap = (
        "We first discuss the training process, including datasets, and multilingual pre-trained models. "
        "Next, we introduce the evaluation datasets and metrics used to assess the performance."
    )
    claim = "The models are evaluated on datasets that were also used for training."
    assert judge(claim, roadmap).verdict == "not stated"
    stated = "The evaluation datasets were also used for training the models."
    assert judge(claim, stated).verdict == "supported"
    announced = judge(
        claim, "Next, we introduce the evaluation datasets, which were also used for training the models."
    )
    assert announced.verdict == "not stated" and announced.support == judge(claim, stated).support
    # "not public" says "unavailable"; "private" would contradict it.
    claim = "Results use the 10,000 validation images, since test labels are unavailable."
    passage = "We report results on its 10,000 validation images because test labels are {} ."
    assert judge(claim, passage.format("not public")).verdict == "supported"
    assert judge(claim, passage.format("public")).verdict == "contradicted"
    # "instead of" denies its noun phrase, not the verb after it.
    claim = "Choosing patches at random instead of by saliency increased error from 19.5 % to 20.2 %."
    passage = "Replacing saliency-based selection with random patch selection raised error from 19.5 % to 20.2 %."
    assert judge(claim, passage).verdict == "supported"


def test_issue_claims_are_contradicted_and_true_ones_supported(mirror, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path))
    for claim in ISSUE_FALSE:
        s = find_support(claim, mirror, vocab=HYBRID)
        assert s.verdict == "contradicted", (claim, s.best)
        assert s.best.reason and s.support < SUPPORTED_AT
    s = find_support(ISSUE_FALSE[3], mirror, vocab=HYBRID)
    assert "30.1%" in s.best.reason and "286.6" in s.best.quote
    for claim in HYBRID_TRUE:
        s = find_support(claim, mirror, vocab=HYBRID)
        assert s.verdict == "supported", (claim, s.passages[:2])


def test_bm25_only_finds_the_sentence_and_page(doc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path))
    s = find_support("Hybrid batch training outperforms X-Y batching on XQuAD-R.", doc, encoder=None)
    assert s.verdict == "supported" and s.best.quote == CLAIM and s.best.page == 1
    assert s.best.section == "1 Introduction"
    miss = find_support("Reinforcement learning from human feedback doubles GPU throughput.", doc, encoder=None)
    assert miss.verdict == "not found" and miss.support < SUPPORTED_AT


def test_dense_paraphrase_and_negative(doc, encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path))
    s = find_support(
        "Training on hybrid batches beats cross-lingual X-Y batches for multilingual retrieval on XQuAD-R.",
        doc,
        encoder=encoder,
        top_k=2,
    )
    assert s.verdict == "supported" and s.best.quote == CLAIM and len(s.passages) == 2
    assert s.best.cosine is not None and s.passages[0].support >= s.passages[1].support
    assert (
        find_support("The model is distilled from a cross-encoder teacher on MS MARCO.", doc, encoder=encoder).verdict
        == "not found"
    )


def _run(paper_dir: Path, claim: str, check: TextCheck) -> CheckResult:
    reg = Registry(
        name="t",
        paper=Paper(arxiv="2408.10536", mirror="paper.pdf"),
        claims=[Claim(id="C1", text=claim, evidence=["text"], checks=[check])],
    )
    ctx = reg.check_context(paper_dir / "claims.yaml", "quick", papers_dirs=[paper_dir])
    return check.run(ctx, reg.claims[0].ref())


def test_text_check_verdicts(doc, encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path / "h"))
    paper_dir = tmp_path / "papers"
    make_paper(paper_dir / "paper.pdf")
    check = TextCheck(kind="text")
    r = _run(paper_dir, "Hybrid batch training outperforms X-Y batching on XQuAD-R.", check)
    assert r.verdict == Verdict.REPRODUCED and r.confidence >= SUPPORTED_AT
    assert "p. 1" in r.headline and "outperforms X-Y batching" in r.headline

    check = TextCheck(kind="text", expect_quote="MIRACL")
    r = _run(paper_dir, "Hybrid batch training outperforms X-Y batching on XQuAD-R.", check)
    assert r.verdict == Verdict.INCONCLUSIVE and "lacks 'MIRACL'" in r.headline

    check = TextCheck(kind="text")
    r = _run(paper_dir, "The approach relies on reinforcement learning from human feedback.", check)
    assert r.verdict == Verdict.INCONCLUSIVE and "does not confirm" in r.headline

    check = TextCheck(kind="text", source="missing.pdf")
    r = _run(paper_dir, "Anything.", check)
    assert r.verdict == Verdict.NOT_CHECKED and r.headline == "not checked: source text unavailable"


def test_contradicted_text_refutes_the_claim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_HOME", str(tmp_path / "h"))
    paper_dir = tmp_path / "papers"
    make_paper(paper_dir / "paper.pdf")
    check = TextCheck(kind="text")
    r = _run(paper_dir, "Hybrid batch training does not outperform X-Y batching on XQuAD-R.", check)
    assert r.verdict == Verdict.NOT_REPRODUCED and r.refutes
    assert "says otherwise (p. 1" in r.headline and "negation" in r.headline and "outperforms X-Y" in r.headline
    assert r.tables[0].rows[0][0] == "contradicted"
    # However well an experiment went, a claim its own source contradicts is not reproduced.
    ok = CheckResult(verdict=Verdict.REPRODUCED, confidence=0.99, headline="the experiment agrees")
    assert claim_verdict([ok, r])[0] == Verdict.NOT_REPRODUCED
    # A decided part that failed refutes the claim whether or not the check flags it (docs/statistics.md).
    assert claim_verdict([ok, r.model_copy(update={"refutes": False})])[0] == Verdict.NOT_REPRODUCED


# ------------------------------------------------------------------ an NLI cross-encoder instead of the rules
def _tiny_nli(path: Path, winner: str) -> Path:
    """A randomly initialised BERT pair classifier whose classifier always prefers ``winner``."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = sorted({w.lower() for w in (CLAIM + " " + " ".join(ISSUE_FALSE)).replace(".", " ").split()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    path.mkdir(parents=True)
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True).save_pretrained(path)
    labels = {0: "CONTRADICTION", 1: "ENTAILMENT", 2: "NEUTRAL"}  # not the usual order on purpose
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
        num_labels=3,
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.mul_(0.01)
        model.classifier.bias.copy_(torch.tensor([-4.0, -4.0, -4.0]))
        model.classifier.bias[{v: k for k, v in labels.items()}[winner]] = 4.0
    model.save_pretrained(path)
    return path


def test_nli_model_decides_instead_of_the_rules(doc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from repro.checks.text_support.nli import NLIJudge

    monkeypatch.setenv("REPRO_HOME", str(tmp_path / "h"))
    entails = NLIJudge(str(_tiny_nli(tmp_path / "entail", "ENTAILMENT")))
    # The judge's probabilities are the model's softmax for (premise = passage, hypothesis = claim).
    enc = entails.tokenizer([CLAIM], ["Hybrid batch training outperforms X-Y batching."], return_tensors="pt")
    with torch.no_grad():
        direct = torch.softmax(entails.model(**enc).logits, -1).numpy()[0]
    got = entails.probabilities("Hybrid batch training outperforms X-Y batching.", [CLAIM])[0]
    assert got == pytest.approx(direct, abs=1e-6) and got[1] > 0.99  # ENTAILMENT is label 1 here
    # A claim the rules call contradicted, the (entailing) model calls supported, and the reverse.
    s = find_support("Hybrid batch training does not outperform X-Y batching on XQuAD-R.", doc, nli=entails)
    assert s.verdict == "supported" and s.method == entails.model_id
    contradicts = NLIJudge(str(_tiny_nli(tmp_path / "contra", "CONTRADICTION")))
    s = find_support("Hybrid batch training outperforms X-Y batching on XQuAD-R.", doc, nli=contradicts)
    assert s.verdict == "contradicted" and "NLI model" in s.best.reason
    # The numbers rule stays: a number the passage does not carry is never entailed.
    j = entails.judge_many("Hybrid batch training is 7 points better than X-Y batching.", [CLAIM])[0]
    assert j.verdict == "not stated" and j.numbers.status == "absent"
    # Through the check, by the `nli:` field.
    paper_dir = tmp_path / "papers"
    make_paper(paper_dir / "paper.pdf")
    check = TextCheck(kind="text", nli=str(tmp_path / "contra"))
    r = _run(paper_dir, "Hybrid batch training outperforms X-Y batching on XQuAD-R.", check)
    assert r.verdict == Verdict.NOT_REPRODUCED and r.details["method"] == str(tmp_path / "contra")


def test_nli_model_errors_are_one_line(tmp_path: Path) -> None:
    from transformers import BertConfig, BertForSequenceClassification

    from repro.checks.text_support.nli import NLIJudge

    with pytest.raises(ReproError, match="cannot load the NLI model"):
        NLIJudge(str(tmp_path / "nowhere"))
    path = _tiny_nli(tmp_path / "m", "ENTAILMENT")
    config = BertConfig.from_pretrained(path)
    config.id2label, config.label2id = {0: "POSITIVE", 1: "NEGATIVE", 2: "MIXED"}, {}
    BertForSequenceClassification(config).save_pretrained(path)
    with pytest.raises(ReproError, match="not an NLI model"):
        NLIJudge(str(path))


# ------------------------------------------------------------------ rules for papers from other fields
def _own_names() -> Vocabulary:
    """The shared vocabulary with a paper's own names, one kind per group (as typed_names makes them)."""
    entities = dict(load_vocabulary().entities)
    for kind, ids in {
        "names:sites": ["Ridgecrest", "Willow Flats"],
        "names:regions": ["North", "South"],
        "names:systems": ["DPG-Net", "CRN", "LSTM-Mask"],
        "names:methods": ["Mixup", "CutMix"],
        "names:samples": ["Al-1", "Ti-1", "AlTi-0.5"],
    }.items():
        entities[kind] = [Entity(id=i) for i in ids]
    return Vocabulary(entities)


OWN_NAMES = _own_names()


@pytest.mark.parametrize(
    ("claim", "passage", "verdict", "why"),
    [
        # A claim about a whole set that the passage denies for part of it fails by its quantifier.
        (
            "Grazing exclusion significantly increased richness at both sites.",
            "Grazing exclusion increased richness at Ridgecrest, but the increase at Willow Flats was not significant.",
            "contradicted",
            "all against some: the claim says 'both'",
        ),
        (
            "None of the samples showed intergranular cracking after 300 cycles.",
            "After 300 cycles, intergranular cracking appeared in most pristine particles.",
            "contradicted",
            "none against some: the claim says 'none'",
        ),
        # ... but not when the passage speaks of the whole set too: then it is a plain negation.
        (
            "Grazing exclusion increased richness significantly at both sites.",
            "Grazing exclusion did not increase richness significantly at either site, at both sites alike.",
            "contradicted",
            "negation:",
        ),
        # Comparisons read from the numbers the passage gives each name.
        (
            "LSTM-Mask has a lower real-time factor than DPG-Net.",
            "DPG-Net has a real-time factor of 0.14, compared with 0.47 for the CRN and 0.21 for LSTM-Mask.",
            "contradicted",
            "roles swapped: the claim puts LSTM-Mask's value below DPG-Net's, the passage gives LSTM-Mask 0.21 and DPG-Net 0.14",
        ),
        (
            "DPG-Net has a lower real-time factor than LSTM-Mask.",
            "DPG-Net has a real-time factor of 0.14, compared with 0.47 for the CRN and 0.21 for LSTM-Mask.",
            "not stated",
            "",
        ),
        # "more robust" is quality; an error is better low, so the lower error is the more robust.
        (
            "CutMix was more robust to corruptions than Mixup.",
            "The mean corruption error was 48.5 % for Mixup and 50.1 % for CutMix.",
            "contradicted",
            "roles swapped: the claim puts CutMix's value below Mixup's",
        ),
        (
            "Mixup was more robust to corruptions than CutMix.",
            "The mean corruption error was 48.5 % for Mixup and 50.1 % for CutMix.",
            "not stated",
            "",
        ),
        # Two names exchanging their numbers; the number's holder is the name after "in"/"for".
        (
            "The sample has 48 county pairs in the South and 38 in the North.",
            "The sample has 86 county pairs, 48 pairs in the North and 38 in the South.",
            "contradicted",
            "swapped name: the claim gives 48 to South, the passage to North",
        ),
        (
            "The sample has 48 county pairs in the North and 38 in the South.",
            "The sample has 86 county pairs, 48 pairs in the North and 38 in the South.",
            "supported",
            "",
        ),
        (
            "Cation mixing was 2.1 % for AlTi-0.5 and 2.6 % for Ti-1.",
            "Cation mixing decreased from 3.8 % to 2.9 % for Al-1, 2.6 % for Ti-1 and 2.1 % for AlTi-0.5.",
            "supported",
            "",
        ),
        # Units: a percentage against a unit of measurement; quarters are not months; a header's unit.
        (
            "On 50 mg, seated systolic pressure fell by 14.6 % from baseline.",
            "At week 12, seated systolic pressure fell by 11.8 mmHg with 25 mg and by 14.6 mmHg with 50 mg.",
            "contradicted",
            "different number: another unit: the claim says 14.6 %, the passage 14.6 mmHg",
        ),
        (
            "The panel spans 24 months of county data.",
            "The panel of county data spans 24 quarters.",
            "contradicted",
            "different number: another unit: the claim says 24 mo, the passage 24 quarter",
        ),
        (
            "One epoch of MixPatch took 44.6 minutes.",
            "Table 2: MixPatch: Time per epoch (s): 44.6.",
            "contradicted",
            "different number: another unit: the claim says 44.6 min, the passage 44.6 s",
        ),
        # Signs and verbs, differences and sums, definite number words.
        (
            "The teen employment effect in the South was -3.0 %.",
            "In the South, teen employment fell by 3.0 %.",
            "supported",
            "",
        ),
        (
            "DPG-Net scored a PESQ of 3.02, which is 0.15 above the CRN.",
            "DPG-Net reaches a PESQ of 3.02, higher than the 2.87 of the CRN.",
            "supported",
            "",
        ),
        (
            "DPG-Net scored a PESQ of 3.02, which is 0.25 above the CRN.",
            "DPG-Net reaches a PESQ of 3.02, higher than the 2.87 of the CRN.",
            "contradicted",
            "different number: the claim says 0.25",
        ),
        (
            "Grass cover in nitrogen plots was 12 % higher than in control plots.",
            "Grass cover rose from 41 % in control plots to 53 % in nitrogen plots, a gain of 12 percentage points.",
            "contradicted",
            "different number: another unit: the claim says 12 %, the passage 12 percentage points",
        ),
        (
            "The design had 48 plots, split evenly between the two sites.",
            "This gave 24 plots per site and 48 plots in total.",
            "supported",
            "",
        ),
        # A denied change against a stated one; a claim about one name against the clause about it.
        (
            "Replacing the dual-path blocks with plain convolutions did not affect PESQ.",
            "Replacing the dual-path blocks with plain convolutions reduced PESQ from 3.02 to 2.95.",
            "contradicted",
            "negation: the claim denies the change the passage states (affect",
        ),
        (
            "The South's teen employment decline was not statistically significant.",
            "In the South, teen employment fell by 3.0 %, an effect significant at the 5 % level, whereas the "
            "estimate for the North is not statistically significant.",
            "contradicted",
            "negation: the claim denies what the passage asserts",
        ),
        (
            "At Ridgecrest, fencing without fertilising added 1.4 species per m².",
            "Fencing alone increased richness by 1.4 species per m² at Ridgecrest, but the increase at Willow Flats was "
            "not significant.",
            "supported",
            "",
        ),
        # Opposite comparatives decide before a negation inside one side's description ("unfenced").
        (
            "At Willow Flats, fenced nitrogen plots kept more species than nitrogen plots left open.",
            "At Willow Flats, fenced plots that received nitrogen had fewer species than unfenced nitrogen plots.",
            "contradicted",
            "opposite words: the claim says 'mor', the passage 'fewer'",
        ),
    ],
)
def test_rules_for_other_fields(claim: str, passage: str, verdict: str, why: str) -> None:
    j = judge(claim, passage, vocab=OWN_NAMES)
    assert j.verdict == verdict, (j.verdict, j.reasons, j.support)
    assert j.reason.startswith(why) if why else not j.reasons, j.reasons


def test_a_papers_own_names_get_kinds_from_lists_and_tables(tmp_path: Path) -> None:
    md = tmp_path / "p.md"
    md.write_text(
        "# A paper\n\nRichness fell at Ridgecrest and at Willow Flats. Scores were lower on OfficeRev than on "
        "VoiceBank. DPG-Net beat CRN on VoiceBank in PESQ. The placebo group had 12 events; PESQ rose.\n\n"
        "Table 1: Scores.\n\n| System | PESQ | STOI |\n|---|---|---|\n| DPG-Net | 3.02 | 0.94 |\n"
        "| LSTM-Mask | 2.80 | 0.92 |\n| Placebo | 1.0 | 0.5 |\n",
        encoding="utf-8",
    )
    doc = load_document(md)
    texts = [it.text for it in passages_of(doc) if it.kind != "sentence pair"]
    vocab = typed_names(load_vocabulary(), document_names(texts, load_vocabulary(), least=1), doc)
    kind = {e.id: cat for cat, items in vocab.entities.items() if cat.startswith("names") for e in items}
    assert kind["Ridgecrest"] == kind["Willow Flats"]  # "at X and at Y"
    assert kind["OfficeRev"] == kind["VoiceBank"]  # "on X than on Y"
    assert kind["DPG-Net"] == kind["LSTM-Mask"]  # rows of one table
    assert kind["PESQ"] == kind["STOI"] != kind["DPG-Net"]  # columns of one table
    assert kind["CRN"] not in {kind["DPG-Net"], kind["PESQ"]}  # "beat" is no list: CRN is alone of its kind
    assert "Placebo" not in kind  # written "placebo" in the text: a common noun
    # A swap between names of different kinds is no swap; between names of one kind it is.
    assert (
        judge("DPG-Net scored 3.02 on OfficeRev.", "DPG-Net scored 3.02 in PESQ.", vocab=vocab).verdict
        != "contradicted"
    )
    swapped = judge(
        "Richness fell by 2.1 species at Ridgecrest.", "Richness fell by 2.1 species at Willow Flats.", vocab=vocab
    )
    assert swapped.verdict == "contradicted" and swapped.reason.startswith("swapped name"), swapped.reasons
