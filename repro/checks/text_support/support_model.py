"""Does one passage state a claim, contradict it, or neither? The project's own (offline) judge.

:func:`judge` looks at a claim and one passage in three steps:

1. **Contradiction cues** (each a rule with a reason for the headline): a negation one side makes
   and the other does not (:mod:`~repro.checks.text_support.polarity`), opposite words next to the
   same words, a number the passage gives otherwise (:mod:`~repro.checks.text_support.numbers_match`,
   percentages recomputed from stated pairs), a swapped dataset, model, language or metric
   (:mod:`~repro.checks.text_support.entity_match`), swapped roles in a comparison
   (:mod:`~repro.checks.text_support.comparisons`), "only"/"all"/"never" against a mix
   (:mod:`~repro.checks.text_support.quantifiers`). A cue counts when the passage is about the
   claim: the IDF-weighted share of the claim's content words in the passage (the *alignment*,
   swapped names left out) reaches :data:`ALIGNED_AT`. Then the verdict is **contradicted**.
2. **Support probability**: a logistic model of the alignment, the dense cosine of claim and
   passage and the offline NLI head's P(entailment) and P(contradiction)
   (:mod:`~repro.checks.text_support.nli_head`, when an encoder is given: it is what lets a claim
   in other words be supported), and whether the passage carries the claim's numbers and names. Its coefficients (:data:`COEF`, :data:`COEF_NO_ENCODER`, read from
   support_model.json) were fitted by ``fit`` in bench/text_support_fit.py on the tuning part of
   tests/data/text_support_pairs.yaml and the DEV papers' claims; ``python bench/eval_text_support.py``
   refits them and reports the held-out part.
3. **Verdict**: supported when the probability reaches :data:`SUPPORTED_AT`, no cue fired, every
   number of the claim is in the passage and every name it gives is there; otherwise not stated.
   A claim with numbers is never supported on word overlap alone.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from repro.checks.text_support.comparisons import (
    compared_pairs,
    relations,
    role_conflict,
    value_conflict,
    values_by_name,
)
from repro.checks.text_support.entity_match import EntityMatch, match_entities, number_swaps
from repro.checks.text_support.numbers_match import NumberMatch, direction_conflict, match_numbers
from repro.checks.text_support.polarity import is_question, negation_conflict, opposite_conflict
from repro.checks.text_support.quantifiers import (
    EXCLUSIVE,
    closed_list_conflict,
    exception_to_universal,
    only_conflict,
    restricted_terms,
    universal_conflict,
)
from repro.checks.text_support.words import stem, tokens, words
from repro.sources.quantities import quantities
from repro.sources.vocabulary import Vocabulary

PairVerdict = Literal["supported", "contradicted", "not stated"]

SUPPORTED_AT = 0.5
# A contradiction cue counts from this alignment on (fitted with the coefficients); a different
# value of the same named parameter or count from the lower one.
ALIGNED_AT = 0.35
ALIGNED_AT_SPECIFIC = 0.25
ALIGNED_AT_NUMBER = 0.42
# A passage sharing less of the claim's words than this supports it only when the NLI head reads
# entailment: a matching small number ("two years" against "2 were legumes") is no evidence.
SUPPORT_ALIGNED_AT = 0.3
FEATURES = (
    "bias",
    "alignment",
    "proximity",
    "cosine",
    "novel_run",
    "numbers_match",
    "numbers_missing",
    "names_missing",
    "cue",
    "entailment",
    "contradiction",
)
# Fitted by bench/text_support_fit.py on the tuning pairs (the seed paper's and the DEV papers'
# from other fields) and committed as support_model.json: ``python bench/eval_text_support.py
# --encoder --write`` refits and rewrites it.
MODEL_FILE = Path(__file__).with_name("support_model.json")


def _load_coefficients(path: Path = MODEL_FILE) -> tuple[dict[str, float], dict[str, float]]:
    """The committed (with encoder, without encoder) coefficients, every feature present."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for key in ("coef", "coef_no_encoder"):
        coef = {f: float(raw[key].get(f, 0.0)) for f in FEATURES}
        unknown = set(raw[key]) - set(FEATURES)
        if unknown:
            raise ValueError(f"{path}: {key} has unknown features {sorted(unknown)}")
        out.append(coef)
    return out[0], out[1]


COEF, COEF_NO_ENCODER = _load_coefficients()
COSINE_CENTER = 0.85  # e5 cosines of unrelated English sentences sit near 0.75-0.80, paraphrases above 0.88


@dataclass
class Judgement:
    """What one passage says about one claim."""

    verdict: PairVerdict
    support: float
    alignment: float
    reasons: list[str] = field(default_factory=list)
    numbers: NumberMatch | None = None
    missing_names: list[str] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)
    swapped: set[str] = field(default_factory=set)  # the claim's names a swap explains
    note: str = ""  # why a cue was set aside

    @property
    def reason(self) -> str:
        """The first reason, or what kept the passage from supporting the claim."""
        if self.reasons:
            return self.reasons[0]
        if self.numbers is not None and self.numbers.status == "absent":
            return self.numbers.explain()
        if self.missing_names:
            return f"the passage does not name {', '.join(self.missing_names)}"
        return self.note


# Sentences that announce what the paper will discuss ("We first discuss the training datasets"):
# they share a claim's words but state nothing about them.
_ROADMAP = re.compile(
    r"\b(?:we (?:first |then |next |now |briefly )?(?:discuss|describe|introduce|present|outline|review|detail)"
    r"|(?:is|are) organi[sz]ed (?:into|as)|the (?:rest|remainder) of th(?:is|e) (?:paper|section|appendix)"
    r"|this (?:section|appendix|chapter) (?:describes|presents|introduces|discusses|gives))\b",
    re.I,
)


def is_roadmap(passage: str) -> bool:
    """Whether ``passage`` only announces what a paper discusses (it then supports no claim)."""
    return _ROADMAP.search(passage) is not None


def alignment(claim_toks: list[str], passage_toks: list[str], weight: Callable[[str], float]) -> float:
    """The weighted share of the claim's distinct content words that the passage contains."""
    want = list(dict.fromkeys(claim_toks))
    total = sum(weight(w) for w in want)
    if not total:
        return 0.0
    have = set(passage_toks)
    return sum(weight(w) for w in want if w in have) / total


def novel_run(claim_toks: list[str], passage_toks: list[str]) -> int:
    """The longest run of consecutive claim words the passage lacks: a phrase it adds ("by a curriculum")."""
    have, best, run = set(passage_toks), 0, 0
    for t in claim_toks:
        run = 0 if t in have else run + 1
        best = max(best, run)
    return best


def proximity(claim_toks: list[str], passage_toks: list[str], window: int = 3) -> float:
    """The share of the claim's neighbouring word pairs that are also neighbours in the passage.

    Bag-of-words overlap cannot tell "evaluated on datasets used for training" from a sentence
    that lists "the training datasets ... the evaluation datasets"; word pairs that stay close can.
    """
    pos: dict[str, list[int]] = {}
    for i, t in enumerate(passage_toks):
        pos.setdefault(t, []).append(i)
    pairs = [(a, b) for a, b in itertools.pairwise(claim_toks) if a != b]
    if not pairs:
        return 1.0 if claim_toks and all(t in pos for t in claim_toks) else 0.0
    close = sum(any(abs(i - j) <= window for i in pos.get(a, []) for j in pos.get(b, [])) for a, b in pairs)
    return close / len(pairs)


def support_probability(features: dict[str, float], with_encoder: bool) -> float:
    """The calibrated probability that a passage with these features states the claim."""
    coef = COEF if with_encoder else COEF_NO_ENCODER
    z = sum(coef[k] * features.get(k, 0.0) for k in FEATURES)
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def features_of(
    aligned: float,
    close: float,
    cosine: float | None,
    novel: int,
    numbers: NumberMatch,
    missing: list[str],
    cue: bool,
    nli: tuple[float, float, float] | None = None,
) -> dict[str, float]:
    """The model's inputs (see :data:`FEATURES`); ``novel`` is :func:`novel_run`, capped at 3;
    ``nli`` the head's (entailment, neutral, contradiction) probabilities."""
    return {
        "bias": 1.0,
        "alignment": aligned,
        "proximity": close,
        "cosine": 0.0 if cosine is None else cosine - COSINE_CENTER,
        "novel_run": min(novel, 3) / 3,
        "numbers_match": float(numbers.status == "match"),
        "numbers_missing": float(numbers.status in ("absent", "mismatch")),
        "names_missing": float(bool(missing)),
        "cue": float(cue),
        "entailment": 0.0 if nli is None else nli[0] - 1 / 3,
        "contradiction": 0.0 if nli is None else nli[2] - 1 / 3,
    }


def _mask_names(text: str, mentions: list) -> str:
    """``text`` with the digits of its named things blanked (offsets kept)."""
    for m in mentions:
        if any(ch.isdigit() for ch in m.text):
            text = text[: m.start] + re.sub(r"\d", "x", m.text) + text[m.start + len(m.text) :]
    return text


def only_names_conflict(claim: str, passage: str, ents: EntityMatch) -> str | None:
    """The claim's "only at X" where the passage gives the same for X and another name of X's kind."""
    restricted = set(restricted_terms(claim))
    # The passage restricting as often as the claim does ("Fencing alone ... only at X" against
    # "Fencing alone ... at X and at Y": its "alone" is the claim's "alone", not its "only").
    said = sum(w in EXCLUSIVE for w in words(claim))
    if not restricted or sum(w in EXCLUSIVE for w in words(passage)) >= said:
        return None
    for m in ents.claim:
        if m.generic or not set(tokens(m.text)) & restricted or m.id not in ents.ids("passage"):
            continue
        others = sorted(ents.ids("passage", m.category) - ents.ids("claim"))
        if others:
            return f"only against a mix: the claim says only {m.id}, the passage {m.id} and {others[0]}"
    return None


_CLAUSES = re.compile(r";|,?\s*\b(?:whereas|while|but|although)\b", re.I)


def clause_about(passage: str, ents: EntityMatch) -> str | None:
    """The one clause of ``passage`` about the claim's names when another clause is about a peer of them.

    "In the South, employment fell, an effect significant at 5 %, whereas the estimate for the
    North is not significant": a claim about the South is judged against the South's clause, so the
    North's negation is not read as the passage's (nor its affirmation as agreeing with a denial).
    """
    bounds = [0] + [m.end() for m in _CLAUSES.finditer(passage)] + [len(passage)]
    if len(bounds) < 3:
        return None
    claim_ids = ents.ids("claim")
    kinds = {m.category for m in ents.claim if not m.generic}
    mine, peers = [], False
    for lo, hi in itertools.pairwise(bounds):
        ids = {m.id: m.category for m in ents.passage if lo <= m.start < hi and not m.generic}
        if set(ids) & claim_ids:
            mine.append(passage[lo:hi])
        elif any(cat in kinds for cat in ids.values()):
            peers = True
    return mine[0] if len(mine) == 1 and peers else None


def contradiction_cues(
    claim: str, passage: str, weight: Callable[[str], float], vocab: Vocabulary | None = None
) -> tuple[list[str], set[str]]:
    """Every contradiction cue of the pair, and the claim's names a swap explains."""
    if is_question(passage):
        return [], set()
    ents = match_entities(claim, passage, vocab)
    reasons: list[str] = []
    swapped: set[str] = set()
    kinds = {m.id: m.category for m in ents.claim + ents.passage}
    c_rel = relations(claim, ents.names("claim"), vocab, kinds)
    p_rel = relations(passage, ents.names("passage"), vocab, kinds)
    role = role_conflict(c_rel, p_rel)
    if not role and not p_rel:
        masked = _mask_names(passage, ents.passage)
        values = values_by_name(masked, ents.passage, quantities(masked))
        by_value = relations(claim, ents.names("claim"), vocab, kinds, by_value=True, measure=passage)
        role = value_conflict(by_value, values)
    if role:
        reasons.append(role)
    # Comparisons already compared as a whole: their direction words are not opposites on their own.
    compared = compared_pairs(c_rel) & compared_pairs(p_rel)
    skip_words = (
        {
            stem(w)
            for w in [
                "higher",
                "lower",
                "more",
                "less",
                "better",
                "worse",
                "greater",
                "smaller",
                "outperform",
                "underperform",
            ]
        }
        if compared
        else set()
    )
    for cue in (
        negation_conflict(claim, clause_about(passage, ents) or passage, weight),
        opposite_conflict(claim, passage, skip=lambda s: s in skip_words),
        only_conflict(claim, passage),
        universal_conflict(claim, passage),
    ):
        if cue:
            reasons.append(cue)
    for cat, said, there in ents.swaps:
        reasons.append(f"swapped {cat[:-1] if cat.endswith('s') else cat}: the claim says {said}, the passage {there}")
        swapped.add(said)
    if not ents.swaps:
        masked_claim, masked_passage = _mask_names(claim, ents.claim), _mask_names(passage, ents.passage)
        for cat, number, said, there in number_swaps(masked_claim, masked_passage, ents):
            reasons.append(
                f"swapped {cat[:-1] if cat.endswith('s') else cat}: the claim gives {number} to {said}, the passage to {there}"
            )
            # A passage naming both is about the claim's name too: the swap stands (never voided).
            if said not in ents.ids("passage"):
                swapped.add(said)
            break
    direction = direction_conflict(_mask_names(claim, ents.claim), _mask_names(passage, ents.passage))
    if direction:
        reasons.append(direction)
    mixed = only_names_conflict(claim, passage, ents)
    if mixed and not any(r.startswith("only against") for r in reasons):
        reasons.append(mixed)
    closed = closed_list_conflict(ents.ids("claim", "datasets"), passage, ents.ids("passage", "datasets"))
    if closed:
        reasons.append(closed)
    # Opposite comparatives ("more species" / "fewer species") say more than a negation inside one
    # side's description ("unfenced plots").
    opposite = [r for r in reasons if r.startswith("opposite words")]
    if opposite and reasons[0].startswith("negation") and re.search(r"\bthan\b", claim, re.I):
        reasons.remove(opposite[0])
        reasons.insert(0, opposite[0])
    exception = exception_to_universal(claim, passage, reasons[0]) if reasons else None
    if exception:
        reasons.insert(0, exception)
    return reasons, swapped


def judge(
    claim: str,
    passage: str,
    weight: Callable[[str], float] | None = None,
    cosine: float | None = None,
    vocab: Vocabulary | None = None,
    nli: tuple[float, float, float] | None = None,
) -> Judgement:
    """Supported, contradicted or not stated: what ``passage`` says about ``claim`` (module docstring).

    ``weight`` gives a stem's IDF in the document (default: every word counts 1); ``cosine`` is the
    dense similarity of the two texts, if an encoder computed it; ``vocab`` the registry's
    vocabulary (default: the shared one); ``nli`` the NLI head's (entailment, neutral,
    contradiction) probabilities.
    """
    weight = weight or (lambda s: 1.0)
    c_toks, p_toks = tokens(claim), tokens(passage)
    aligned = alignment(c_toks, p_toks, weight)
    ents = match_entities(claim, passage, vocab)
    # Digits inside names ("WideResNet-28-10", "Al-1") are not numbers the claim states.
    numbers = match_numbers(_mask_names(claim, ents.claim), _mask_names(passage, ents.passage))
    reasons, swapped = contradiction_cues(claim, passage, weight, vocab)
    if numbers.status == "mismatch":
        reasons.insert(0, f"different number: {numbers.explain()}")
    # Alignment for cues: the swapped names are expected to be missing.
    swapped_toks = set(tokens(" ".join(swapped)))
    aligned_rest = alignment([t for t in c_toks if t not in swapped_toks], p_toks, weight) if swapped else aligned
    missing = [n for n in ents.missing if n not in swapped]
    feats = features_of(
        aligned, proximity(c_toks, p_toks), cosine, novel_run(c_toks, p_toks), numbers, missing, bool(reasons), nli
    )
    prob = support_probability(feats, with_encoder=cosine is not None)
    if nli is not None:
        feats["entailment_p"] = round(nli[0], 4)
    specific = numbers.status == "mismatch" and numbers.specific
    # A plain number that differs is evidence against the claim only from a passage about the same
    # thing: other cues need ALIGNED_AT, a lone different value ALIGNED_AT_NUMBER.
    only_number = reasons and all(r.startswith(("different number", "swapped name")) for r in reasons)
    needed = ALIGNED_AT_NUMBER if only_number and not specific else ALIGNED_AT
    if reasons and (aligned_rest >= needed or (specific and aligned_rest >= ALIGNED_AT_SPECIFIC)):
        verdict: PairVerdict = "contradicted"
    elif (
        prob >= SUPPORTED_AT
        and not reasons
        and numbers.status in ("none", "match")
        and not missing
        and not is_question(passage)
        and not is_roadmap(passage)
        and (aligned >= SUPPORT_ALIGNED_AT or (nli is not None and nli[0] >= 0.5))
    ):
        verdict = "supported"
    else:
        verdict = "not stated"
    return Judgement(
        verdict=verdict,
        support=round(prob, 4),
        alignment=round(aligned, 4),
        reasons=reasons,
        numbers=numbers,
        missing_names=missing,
        features=feats,
        swapped=swapped,
    )
