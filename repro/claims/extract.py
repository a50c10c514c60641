"""Claim candidates from a structured document: sentences scored for claim-likeness.

Every sentence of the prose (paragraphs, captions, footnotes; not headings or references) gets
interpretable cue features (:func:`features`, :data:`FEATURES`; see docs/claims-extraction.md):
contribution cues ("we propose", "our approach"), result verbs, comparatives, numbers next to a
metric or dataset, linked entities, hedges, questions, citations of other work, related-work
sections, training set-up (named hyper-parameters, seeds, hardware), evaluation protocol, scope
and limitations, dataset facts, and domain-free shapes ("we set X to 0.95", a numeral, a negation,
a passive). The learned claim model (:mod:`repro.claims.claim_model`: logistic regressions over
these cues, the rules' type and the sentence's e5 embedding, fitted on labelled sentences) gives
each sentence a claim probability and a type; sentences reaching the model's threshold are
candidates, each with its quote, page, section, confidence, type
(:mod:`repro.claims.claim_types`), the values a setup or data claim states, linked entities, the
table numbers it refers to and, where the entities resolve, a check skeleton (a comparative claim
becomes ``{kind: comparison, ...}``). The extraction also carries the paper's findings about
itself (:mod:`repro.sources.consistency`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from pydantic import BaseModel, Field

from repro.checks.text_support.words import NEGATIONS
from repro.claims.claim_model import (
    ClaimModel,
    LinearModel,
    TypeModel,
    default_encoder,
    embed,
    input_rows,
    load_model,
)
from repro.claims.claim_types import (
    HARDWARE_MENTION,
    OPTIMIZERS,
    PROTOCOL,
    SCOPE,
    STRONG_COMPARATIVE,
    TREND,
    ClaimType,
    claim_type,
    parse_values,
    section_kind,
    type_features,
)
from repro.errors import ReproError, first_line
from repro.evaluation.declarations import DECLARATIONS
from repro.sources.consistency import Finding, check_document
from repro.sources.document import DocTable, Document, TableIssue
from repro.sources.quantities import quantities
from repro.sources.sentences import iter_sentences
from repro.sources.tables import check_means
from repro.sources.vocabulary import Mention, Vocabulary, load_vocabulary

if TYPE_CHECKING:
    from repro.models.encoder import Encoder

# The cue features (:func:`features`), in the order the claim model takes them.
FEATURES: tuple[str, ...] = (
    "contribution",  # "we propose/show/find", "our ...", "the proposed ..."
    "result_verb",  # "outperforms", "reduces", "achieves", "uses", ...
    "comparative",  # "better", "than", "compared to"
    "number_with_entity",  # a number and a metric or dataset mention
    "number",  # a number otherwise (references, citation years, digits of names are not numbers)
    "entities",  # distinct linked entities, up to 3
    "hedge",  # "may", "might", "future work" on the claim itself
    "question",
    "citation",  # of other work, unless the authors speak
    "related_work",  # related-work / background section
    "results_section",  # results / analysis / ablation / discussion section: where findings are stated
    "method_section",  # method / model / approach section: where procedure is described
    "descriptive",  # "in this section", "is shown in"
    "length",  # fewer than 6 or more than 70 words
    "setup",  # a named hyper-parameter, seeds, an optimizer or hardware
    "protocol",  # zero-shot, held out, what is reported
    "scope",  # what the work does not do
    "data_fact",  # a dataset with a count, a split, its languages
    "analysis",  # a trend or where an effect is largest ("falls as ... grows")
    "roadmap",  # "Section 4 describes ...", "Table 2 lists ...": the paper about itself
    "counted",  # a count of things ("five random splits", "130,831 molecules", "one GPU")
    "definition",  # "X is defined as", "Let x denote", "A checkpoint is a copy of ..."
    # Domain-free shapes of statements (no subject-matter words):
    "stated_value",  # "we set X to 0.95", "X of 256", "X is 0.1": a quantity given a value
    "digits",  # any numeral, in digits or words
    "first_person",  # "we", "our"
    "negation",  # "not", "never", "no", "without"
    "quantifier",  # "each", "every", "all", "per", "only", "single"
    "passive",  # "is run", "were removed", "are scored": something done to the object of study
)

_CONTRIBUTION = re.compile(
    r"\b(we (propose|present|introduce|show|demonstrate|find|found|observe|achieve|obtain|outperform)|"
    r"this (paper|work) (proposes|presents|introduces|shows)|our [a-z][a-z-]+|"
    r"the proposed (?:[a-z-]+ )?\w+|the approach|results (show|demonstrate|indicate))\b",
    re.IGNORECASE,
)
_RESULT_VERB = re.compile(
    r"\b(outperform\w*|improv\w*|reduc\w*|achiev\w*|surpass\w*|exceed\w*|boost\w*|increas\w*|decreas\w*|"
    r"mitigat\w*|enabl\w*|yield\w*|gain\w*|beat\w*|fine-tun\w*|uses?|trained on|conducted on|match\w*|"
    r"lowers?(?!-)|cuts?|halves|doubles|reach\w*|attain\w*|obtain\w*|deliver\w*|recover\w*|degrad\w*|"
    r"flatten\w*|concentrat\w*|costs?|remains?|stays?|tends? to|appears? to|generali[sz]e\w*)\b",
    re.IGNORECASE,
)
_COMPARATIVE = re.compile(
    r"\b(better|worse|higher|lower|superior|inferior|best|state-of-the-art|than|compared (to|with)|relative to|"
    r"comparable|competitive|consistently|substantially|significantly|against)\b",
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
_RESULTS_SECTION = re.compile(r"results?|analys[ie]s|ablations?|findings|discussion|conclusions?", re.IGNORECASE)
_METHOD_SECTION = re.compile(r"method|model\b|approach|architecture|preliminar|problem|formulation", re.IGNORECASE)
_REFERENCE = re.compile(
    r"\b(?:Tables?|Figs?\.?|Figures?|Sections?|Sec\.|Eqs?\.|Equations?|Appendix)\s*[A-Z]?\d+(?:\.\d+)*", re.IGNORECASE
)
_TABLE_REF = re.compile(r"\bTables?\s*\[?(\d+)", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(we|our)\b", re.IGNORECASE)
_ROADMAP = re.compile(
    r"^(?:The )?(?:Sections?|Appendix|Appendices|Tables?|Figures?|Figs?\.)\s*[A-Z]?\d*(?:\.\d+)*\s+(?:and \S+\s+)?"
    r"(?:describes?|presents?|discuss(?:es)?|lists?|shows?|gives?|summari[sz]es?|illustrates?|reports?|details?|provides?|"
    r"reviews?|introduces?|covers?|outlines?|concludes?)\b"
    r"(?!\s+that\b)"
    r"|^The remainder of\b",
    re.IGNORECASE,
)
_STATED_VALUE = re.compile(
    r"\b(?:set|sets|fix|fixed|fixes|chose|choose|chosen|use|used|uses|select\w*|tune\w*)\b[^.;:]{0,50}?"
    r"\b(?:to|of|at|as|=)\s*[~≈]?[-+−]?(?:\d|one|two|three|four|five|six|seven|eight|nine|ten)\b"
    r"|\b[a-z][\w-]*\s+(?:of|=|is|was|were|are)\s+(?:set to\s+|fixed at\s+)?[~≈]?[-+−]?\d[\d.,]*(?:e-?\d+)?\b"
    r"|\b[a-z][\w-]*\s*=\s*[-+−]?\d"
    r"|\b(?:starts?|begins?|initiali[sz]ed|annealed|decayed|decays|warmed up) (?:at|to|from) [-+−]?(?:\d|zero)",
    re.IGNORECASE,
)
_NUMERAL = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|fifty|hundred|"
    r"thousand|million|billion|half|twice|double|single)\b",
    re.IGNORECASE,
)
# The text check's negation words, so the two never disagree on what negates.
_NEGATION = re.compile(r"\b(?:" + "|".join(sorted(NEGATIONS)) + r")\b|n't\b", re.IGNORECASE)
_QUANTIFIER = re.compile(r"\b(?:each|every|all|per|only|single|solely|both)\b", re.IGNORECASE)
_PASSIVE = re.compile(
    r"\b(?:is|are|was|were|be|been|being)\s+(?:\w+ly\s+)?(?:\w+ed|run|done|kept|held|given|drawn|taken|seen|made|set|split|chosen|shown)\b",
    re.IGNORECASE,
)
_DATA_CUE = re.compile(
    r"\b(contains?|consists? of|split|parallel|translated|absent from|held out|queries|questions|pairs|"
    r"provides?|recorded|collected|transcribed|annotated|gathered|crawled|discarded|filtered|excluded|retained|"
    r"kept|leaving)\b",
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
    tables: list[DocTable] = Field(
        default_factory=list, description="the document's tables (kept out of the prose): caption, rows, cells"
    )
    warnings: list[str] = Field(default_factory=list, description="e.g. scored without the sentence encoder")


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
    named = any(q.name for q in qs) or bool(OPTIMIZERS.search(sentence) or HARDWARE_MENTION.search(sentence))
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
        "results_section": float(bool(section and _RESULTS_SECTION.search(section))),
        "method_section": float(bool(section and _METHOD_SECTION.search(section))),
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
        "stated_value": float(bool(_STATED_VALUE.search(sentence))),
        "digits": float(bool(_NUMERAL.search(_REFERENCE.sub(" ", sentence)))),
        "first_person": float(bool(_FIRST_PERSON.search(sentence))),
        "negation": float(bool(_NEGATION.search(sentence))),
        "quantifier": float(bool(_QUANTIFIER.search(sentence))),
        "passive": float(bool(_PASSIVE.search(sentence))),
    }


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


def _scorer(
    model: ClaimModel | None, encoder: Encoder | None, use_encoder: bool
) -> tuple[LinearModel, TypeModel | None, Any, list[str]]:
    """The linear model to score with, the type model (None: the linear model's), an encoder (or None) and warnings."""
    model = model or load_model()
    if not use_encoder:
        return model.cue_only, model.type_model(False), None, []
    if encoder is not None:
        return model.with_encoder, model.type_model(True), encoder, []
    try:
        return model.with_encoder, model.type_model(True), default_encoder(), []
    except (ReproError, ImportError, OSError) as exc:
        msg = f"claim scoring without the sentence encoder ({first_line(exc)}): cue features only"
        return model.cue_only, model.type_model(False), None, [msg]


def heading_paths(doc: Document) -> dict[int, list[str]]:
    """For each prose block (by ``id``), the headings it sits under, outermost first (the title left out)."""
    out: dict[int, list[str]] = {}
    stack: list[tuple[int, str]] = []
    for block in doc.blocks:
        if block.kind == "heading":
            if block.text.strip() == doc.title.strip():
                continue
            level = block.level or 1
            stack = [(lv, t) for lv, t in stack if lv < level] + [(level, block.text)]
        else:
            out[id(block)] = [t for _, t in stack] or ([block.section] if block.section else [])
    return out


def sentence_rows(doc: Document, vocab: Vocabulary) -> list[tuple[Any, str, list[Mention], dict[str, float], str]]:
    """(block, sentence, mentions, features, rules' type) of every prose sentence of ``doc``.

    ``features`` holds the claim model's cue features and the type model's
    (:func:`repro.claims.claim_types.type_features`, with the kind of the sentence's outermost
    named section).
    """
    paths = heading_paths(doc)
    rows = []
    for block, sentence in iter_sentences(doc):
        mentions = vocab.find(sentence)
        feats = features(sentence, block.section, mentions)
        feats.update(type_features(sentence, section_kind(paths.get(id(block), [block.section or ""]))))
        rows.append((block, sentence, mentions, feats, claim_type(sentence, mentions, block.section)))
    return rows


def default_threshold(use_encoder: bool = True) -> float:
    """The committed claim model's threshold (with or without the encoder)."""
    m = load_model()
    return (m.with_encoder if use_encoder else m.cue_only).threshold


def extract_candidates(
    doc: Document,
    vocab: Vocabulary | None = None,
    threshold: float | None = None,
    *,
    model: ClaimModel | None = None,
    encoder: Encoder | None = None,
    use_encoder: bool = True,
) -> Extraction:
    """Claim candidates of ``doc`` in reading order (see module docstring), with its findings.

    ``threshold`` defaults to the claim model's (fitted by cross-validation); ``model`` to the
    committed one (:mod:`repro.claims.claim_model`); ``encoder`` to the offline e5-small. With
    ``use_encoder=False``, or when the encoder cannot be loaded, the cue-only model scores.
    """
    vocab = vocab or load_vocabulary()
    linear, typer, enc, warnings = _scorer(model, encoder, use_encoder)
    if threshold is None:
        threshold = linear.threshold
    rows = sentence_rows(doc, vocab)
    candidates = []
    if rows:
        feats, rules = [r[3] for r in rows], [r[4] for r in rows]
        emb = embed([r[1] for r in rows], enc) if linear.embedding or (typer and typer.embedding) else None
        X = input_rows(linear.inputs, feats, rules)
        if linear.embedding:
            X = np.hstack([X, emb])
        conf = linear.confidence(X)
        if typer is None:
            kinds = linear.predict_types(X)
        else:
            T = input_rows(typer.inputs, feats, rules)
            kinds = typer.predict(np.hstack([T, emb]) if typer.embedding else T)
    for i, (block, sentence, mentions, feats, _rule) in enumerate(rows):
        if conf[i] < threshold:
            continue
        check, complete = suggest_check(sentence, mentions, vocab)
        kind = cast(ClaimType, kinds[i])
        candidates.append(
            ClaimCandidate(
                text=sentence,
                page=block.page,
                section=block.section,
                block_kind=block.kind,
                confidence=round(float(conf[i]), 3),
                type=kind,
                values=parse_values(sentence, kind),
                features={k: feats[k] for k in FEATURES},
                entities=mentions,
                check=check,
                check_complete=complete,
                reported=_reported(sentence, doc),
            )
        )
    issues = [i for t in doc.tables for i in check_means(t)]
    return Extraction(
        source=doc.source,
        candidates=candidates,
        table_issues=issues,
        findings=check_document(doc, vocab),
        tables=doc.tables,
        warnings=warnings,
    )
