"""Claim candidates from a structured document: sentences scored for claim-likeness.

Every sentence of the prose (paragraphs, captions, footnotes; not headings or references) gets a
logistic score from a few interpretable features (see :data:`WEIGHTS` and docs/claims-extraction.md):
contribution cues ("we propose", "our approach"), result verbs ("outperforms", "reduces",
"achieves"), comparatives ("better than", "compared to"), numbers next to a metric or dataset,
linked entities; hedges, questions, citations of other work and related-work sections count
against. Statements a reproducer needs first count for too: training set-up (named
hyper-parameters, seeds, hardware), evaluation protocol (zero-shot, held out, what is reported),
scope and limitations, dataset facts. Sentences scoring at least :data:`THRESHOLD` are candidates,
each with its quote, page, section, confidence, type (:mod:`repro.claims.claim_types`), the
values a setup or data claim states, linked entities, the table numbers it refers to and, where
the entities resolve, a check skeleton (a comparative claim becomes ``{kind: comparison, ...}``).
The extraction also carries the paper's findings about itself (:mod:`repro.sources.consistency`).
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import BaseModel, Field

from repro.claims.claim_types import (
    PROTOCOL,
    SCOPE,
    STRONG_COMPARATIVE,
    TREND,
    ClaimType,
    claim_type,
    parse_values,
)
from repro.evaluation.declarations import DECLARATIONS
from repro.sources.consistency import Finding, check_document
from repro.sources.document import Document, TableIssue
from repro.sources.quantities import quantities
from repro.sources.sentences import iter_sentences
from repro.sources.tables import check_means
from repro.sources.vocabulary import Mention, Vocabulary, load_vocabulary

# A sentence is a candidate from this confidence on. On bench/eval_extraction.py 0.4 is F1-best
# (P .79, R .96) and 0.5 gives P .81, R .89; 0.5 because every draft costs a person's review.
THRESHOLD = 0.5

WEIGHTS: dict[str, float] = {
    "bias": -2.2,
    "contribution": 2.3,
    "result_verb": 1.5,
    "comparative": 1.0,
    "number_with_entity": 1.2,
    "number": 0.4,
    "entities": 0.35,  # per distinct linked entity, up to 3
    "hedge": -2.4,
    "question": -2.5,
    "citation": -1.1,
    "related_work": -1.5,
    "descriptive": -1.6,
    "length": -1.5,
    "setup": 2.6,  # a named hyper-parameter, seeds, an optimizer or hardware
    "protocol": 2.4,  # zero-shot, held out, what is reported
    "scope": 2.8,  # what the work does not do
    "data_fact": 2.0,  # a dataset with a count, a split, its languages
    "analysis": 2.4,  # a trend or where an effect is largest ("falls as ... grows")
    "roadmap": -3.0,  # "Section 4 describes ...", "Table 2 lists ...": the paper about itself
    "counted": 1.4,  # a count of things ("five random splits", "130,831 molecules", "one GPU")
    "definition": -3.0,  # "X is defined as", "Let x denote", "A checkpoint is a copy of ..."
}

_CONTRIBUTION = re.compile(
    r"\b(we (propose|present|introduce|show|demonstrate|find|found|observe|achieve|obtain|outperform)|"
    r"this (paper|work) (proposes|presents|introduces|shows)|our [a-z][a-z-]+|"
    r"the proposed (?:[a-z-]+ )?\w+|the approach|results (show|demonstrate|indicate))\b",
    re.IGNORECASE,
)
_RESULT_VERB = re.compile(
    r"\b(outperform\w*|improv\w*|reduc\w*|achiev\w*|surpass\w*|exceed\w*|boost\w*|increas\w*|decreas\w*|"
    r"mitigat\w*|enabl\w*|yield\w*|gain\w*|beat\w*|fine-tun\w*|uses?|trained on|conducted on|match\w*|"
    r"lowers?(?!-)|cuts?|halves|doubles|reach\w*)\b",
    re.IGNORECASE,
)
_COMPARATIVE = re.compile(
    r"\b(better|worse|higher|lower|superior|inferior|best|state-of-the-art|than|compared (to|with)|relative to|"
    r"comparable|competitive|consistently|substantially|significantly)\b",
    re.IGNORECASE,
)
_HEDGE = re.compile(
    r"\b(may|might|could|future work|we plan|we hope|it is possible|perhaps|would like)\b", re.IGNORECASE
)
_CITATION = re.compile(
    r"\bet al\b|\(\s*[A-Z][A-Za-z-]+(?: and [A-Z][A-Za-z-]+)?,? (?:19|20)\d\d[a-z]?\s*\)|\[\d+(?:,\s*\d+)*\]"
)
_DESCRIPTIVE = re.compile(
    r"\b(in this section|we describe|is shown in|are shown in|for example|we follow|is given by)\b", re.IGNORECASE
)
# A definition states what a word means, not what the paper found or did.
_DEFINITION = re.compile(
    r"\b(is defined as|are defined as|denotes?|refers to|stands for)\b|^(?:let|suppose that)\b|"
    r"^(?:An?|The) [\w-]+(?: [\w-]+)? (?:is|are) (?:an?|the) [\w-]+ (?:of|for|that|which|under)\b",
    re.IGNORECASE,
)
_RELATED = re.compile(r"related work|background|references|bibliography|acknowledg", re.IGNORECASE)
_REFERENCE = re.compile(
    r"\b(?:Tables?|Figs?\.?|Figures?|Sections?|Sec\.|Eqs?\.|Equations?|Appendix)\s*[A-Z]?\d+(?:\.\d+)*", re.IGNORECASE
)
_TABLE_REF = re.compile(r"\bTables?\s*\[?(\d+)", re.IGNORECASE)
_OPTIMIZER = re.compile(r"\b(AdamW|Adam|SGD|Adafactor|LAMB|RMSprop|Adagrad)\b")
_HARDWARE = re.compile(r"\b(A100|V100|H100|A6000|TPU|GPUs?)\b")
_FIRST_PERSON = re.compile(r"\b(we|our)\b", re.IGNORECASE)
_ROADMAP = re.compile(
    r"^(?:The )?(?:Sections?|Appendix|Appendices|Tables?|Figures?|Figs?\.)\s*[A-Z]?\d*(?:\.\d+)*\s+(?:and \S+\s+)?"
    r"(?:describes?|presents?|discuss(?:es)?|lists?|shows?|gives?|summari[sz]es?|illustrates?|reports?|details?|provides?)\b"
    r"(?!\s+that\b)"
    r"|^The remainder of\b",
    re.IGNORECASE,
)
_DATA_CUE = re.compile(
    r"\b(contains?|consists? of|split|parallel|translated|absent from|held out|queries|questions|pairs|"
    r"provides?|recorded|collected|transcribed|annotated|gathered|crawled)\b",
    re.IGNORECASE,
)


class ClaimCandidate(BaseModel):
    """One sentence that looks like a claim."""

    text: str
    page: int | None = None
    section: str | None = None
    block_kind: str = "text"
    confidence: float
    type: ClaimType = "result"
    values: dict[str, Any] = Field(default_factory=dict, description="values a setup or data claim states")
    features: dict[str, float] = Field(default_factory=dict)
    entities: list[Mention] = Field(default_factory=list)
    check: dict[str, Any] | None = Field(default=None, description="suggested check skeleton")
    check_complete: bool = False
    reported: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def quote(self) -> str:
        """The sentence as the document prints it."""
        return self.text


class Extraction(BaseModel):
    """Everything drafted from one document."""

    source: str
    candidates: list[ClaimCandidate]
    table_issues: list[TableIssue] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list, description="the paper checked against itself")


def _hedged(sentence: str) -> bool:
    """A hedge on the claim itself; "languages where corpora may be limited" hedges a side remark."""
    for m in _HEDGE.finditer(sentence):
        before = sentence[max(0, m.start() - 40) : m.start()].lower().split()[-6:]
        if not any(w in ("where", "which", "that", "if", "whether", "when") for w in before[:-1] + before[-1:]):
            return True
        if m.group(0).lower() in ("future work", "we plan", "we hope", "would like"):
            return True
    return False


def features(sentence: str, section: str | None, mentions: list[Mention]) -> dict[str, float]:
    """The claim-likeness features of one sentence (0/1 flags, ``entities`` a count up to 3)."""
    words = len(sentence.split())
    qs = quantities(sentence)
    # Citation years, "Table 2"/"Section 3" references and digits of names (R@1, XLM-R) are not results.
    has_number = bool(qs)
    tied = has_number and any(m.category in ("metrics", "datasets") for m in mentions)
    named = any(q.name for q in qs) or bool(_OPTIMIZER.search(sentence) or _HARDWARE.search(sentence))
    counted = any(q.unit not in (None, "%", "x", "point") for q in qs)
    named_data = any(m.category in ("datasets", "languages") for m in mentions)
    data_word = bool(_DATA_CUE.search(sentence) or re.search(r"\b(corpus|corpora|datasets?|data)\b", sentence, re.I))
    data_fact = (named_data and (counted or bool(_DATA_CUE.search(sentence)))) or (counted and data_word)
    return {
        "contribution": float(bool(_CONTRIBUTION.search(sentence))),
        "result_verb": float(bool(_RESULT_VERB.search(sentence))),
        "comparative": float(bool(_COMPARATIVE.search(sentence) or STRONG_COMPARATIVE.search(sentence))),
        "number_with_entity": float(tied),
        "number": float(has_number and not tied),
        "entities": float(min(3, len({(m.category, m.id) for m in mentions}))),
        "hedge": float(_hedged(sentence)),
        "question": float(sentence.rstrip().endswith("?")),
        # Citing others counts against a claim, unless the authors speak of their own work ("we use X (Y, 2020)").
        "citation": float(bool(_CITATION.search(sentence)) and not _FIRST_PERSON.search(sentence)),
        "related_work": float(bool(section and _RELATED.search(section))),
        "descriptive": float(bool(_DESCRIPTIVE.search(sentence))),
        "length": float(words < 6 or words > 70),
        "setup": float(named),
        "protocol": float(bool(PROTOCOL.search(sentence))),
        "scope": float(bool(SCOPE.search(sentence))),
        "data_fact": float(data_fact),
        "analysis": float(bool(TREND.search(sentence))),
        "roadmap": float(bool(_ROADMAP.search(sentence))),
        "counted": float(counted),
        "definition": float(bool(_DEFINITION.search(sentence))),
    }


def score(feats: dict[str, float]) -> float:
    """Claim-likeness as a probability: the logistic of the weighted features."""
    z = WEIGHTS["bias"] + sum(WEIGHTS[k] * v for k, v in feats.items())
    return 1.0 / (1.0 + math.exp(-z))


def suggest_check(sentence: str, mentions: list[Mention], vocab: Vocabulary) -> tuple[dict[str, Any] | None, bool]:
    """A ``comparison`` check skeleton for a comparative claim, and whether every field resolved.

    ``a`` is the first method mentioned that names an arm, ``b`` the others; the task is the first
    dataset with a repro task; the metric gets its setting (Mo/Cr/Mul) from the sentence.
    """
    if not (_COMPARATIVE.search(sentence) or re.search(r"\b(outperform|reduc|improv|surpass)", sentence, re.I)):
        return None, False
    arms = list(
        dict.fromkeys(
            e.arm for m in mentions if m.category == "methods" for e in [vocab.get("methods", m.id)] if e and e.arm
        )
    )
    tasks = list(
        dict.fromkeys(
            e.task for m in mentions if m.category == "datasets" for e in [vocab.get("datasets", m.id)] if e and e.task
        )
    )
    metrics = [
        e.metric for m in mentions if m.category == "metrics" for e in [vocab.get("metrics", m.id)] if e and e.metric
    ]
    settings = [m.id for m in mentions if m.category == "settings"]
    if not arms:
        return None, False
    metric = metrics[0] if metrics else None
    if metric and tasks and tasks[0] in DECLARATIONS and DECLARATIONS[tasks[0]].needs_setting(metric):
        metric = f"{settings[0]} {metric}" if settings else None
    worse = bool(re.search(r"\b(worse|underperform\w*|inferior|lags?)\b", sentence, re.I))
    check = {
        "kind": "comparison",
        "task": tasks[0] if tasks else None,
        "metric": metric,
        "a": arms[0],
        "b": arms[1:] or None,
        "claim": "worse" if worse else "better",
    }
    complete = all(check[k] for k in ("task", "metric", "a", "b"))
    return check, complete


def _reported(sentence: str, doc: Document) -> list[dict[str, Any]]:
    out = []
    for num in dict.fromkeys(_TABLE_REF.findall(sentence)):
        table = doc.table(num)
        if table is None:
            continue
        for cell in table.cells:
            if cell.value is not None:
                out.append(
                    {
                        "what": " / ".join(p for p in (cell.row_header, cell.col_header) if p),
                        "value": cell.value,
                        "where": table.label,
                    }
                )
    return out


def extract_candidates(doc: Document, vocab: Vocabulary | None = None, threshold: float = THRESHOLD) -> Extraction:
    """Claim candidates of ``doc`` in reading order (see module docstring), with its findings."""
    vocab = vocab or load_vocabulary()
    candidates = []
    for block, sentence in iter_sentences(doc):
        mentions = vocab.find(sentence)
        feats = features(sentence, block.section, mentions)
        conf = score(feats)
        if conf < threshold:
            continue
        check, complete = suggest_check(sentence, mentions, vocab)
        kind = claim_type(sentence, mentions, block.section)
        candidates.append(
            ClaimCandidate(
                text=sentence,
                page=block.page,
                section=block.section,
                block_kind=block.kind,
                confidence=round(conf, 3),
                type=kind,
                values=parse_values(sentence, kind),
                features=feats,
                entities=mentions,
                check=check,
                check_complete=complete,
                reported=_reported(sentence, doc),
            )
        )
    issues = [i for t in doc.tables for i in check_means(t)]
    return Extraction(
        source=doc.source, candidates=candidates, table_issues=issues, findings=check_document(doc, vocab)
    )
