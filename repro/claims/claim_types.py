"""What kind of statement a drafted claim is, and the values a setup or data claim states.

Types (the first rule that fires wins, in this order):

- ``scope``: what the work does not do or covers only ("does not address", "not evaluated",
  "focus only on", "limited to"), or any claim of a *Limitations* section;
- ``result`` first when the sentence states a trend ("saturates after 60 epochs", "the gain is
  largest for small models"), whatever else it names;
- ``setup``: how models were trained -- named hyper-parameters ("a learning rate of 3e-5",
  "batch size of 100"), seeds, epochs, steps, optimizers, hardware;
- ``protocol``: how they were evaluated -- zero-shot, held out, "not used for training",
  metrics reported, averaging;
- ``data``: facts of datasets -- sizes, languages, splits, parallelism, translation;
- ``comparison``: two methods and a comparative ("outperforms", "than", "compared to");
- ``result``: anything else a paper claims to have found.

:func:`parse_values` gives the values of setup and data claims (``{"batch_size": 100,
"learning_rate": 3e-05, "optimizer": "AdamW", "hardware": "NVIDIA A100-80 GB"}``), and
:func:`against_config` sets them beside an experiment's configuration ("paper: batch size 100;
ours: 32").
"""

from __future__ import annotations

import re
from typing import Any, Literal

from repro.sources.quantities import quantities
from repro.sources.vocabulary import Mention

ClaimType = Literal["result", "comparison", "setup", "data", "protocol", "scope"]
CLAIM_TYPES: tuple[str, ...] = ("result", "comparison", "setup", "data", "protocol", "scope")

SCOPE = re.compile(
    r"\b(do(?:es)? not (?:address|consider|cover|study|evaluate|test|include|examine|explore)|"
    r"(?:was|were|is|are) not (?:evaluated|tested|studied|considered|covered|included in (?:the|our) evaluation)|"
    r"did not (?:evaluate|test|study|consider)|focus(?:es)? only on|only focus|limited to|limitations?\b|"
    r"beyond the scope|out of scope|leave\w* (?:\w+ ){0,3}(?:to|for) future work|not (?:yet )?explored|"
    r"(?:have|has|had) not (?:yet )?(?:been )?(?:tested|evaluated|studied|considered|released|explored|examined|tried)|"
    r"(?:is|are|was|were) not (?:publicly )?(?:released|available|public|shared)|cannot be (?:reproduced|replicated)|"
    r"(?:lie|lies|fall|falls|are|is) outside (?:the |our )?(?:present |current )?(?:study|scope|work|paper)|"
    r"(?:confined|restricted) to|(?:remains?|is|are|was|were) (?:still )?untested|untested|not studied|"
    r"(?:may|might) not (?:hold|transfer|generali[sz]e)|no claim is made)",
    re.IGNORECASE,
)
OPTIMIZERS = re.compile(r"\b(AdamW|Adam|SGD|Adafactor|LAMB|RMSprop|Adagrad)\b")
HARDWARE = re.compile(
    r"\b((?:NVIDIA\s+)?(?:A100|V100|H100|A6000|T4|P100|RTX\s*\d+|TPU\s*v?\d*)(?:[-\s]?\d+\s*GB)?(?:\s+GPUs?)?|"
    r"\d+\s+(?:CPU\s+)?cores)",
    re.IGNORECASE,
)
# The claim model's "names a setting" feature (repro.claims.extract.features) was fitted with this
# narrower, case-sensitive hardware pattern; it stays as fitted (changing it changes the model's
# inputs: refit with bench/fit_extraction.py), beside HARDWARE, which parses the values.
HARDWARE_MENTION = re.compile(r"\b(A100|V100|H100|A6000|TPU|GPUs?)\b")
SETUP = re.compile(
    r"\b(learning rate|batch size|weight decay|warm-?up|dropout|epochs?|training steps|seeds?|random seed|"
    r"optimi[sz]er|early stopping|checkpoint|trained for|fine-tun\w+ for|max(?:imum)? (?:sequence )?length|"
    r"temperature|gradient|hyper-?parameters?)\b",
    re.IGNORECASE,
)
PROTOCOL = re.compile(
    r"\b(zero-shot (?:evaluation|setting|manner)|(?:evaluated|used|tested|applied) zero-shot|"
    r"evaluat\w+ (?:on|using|with|in)|we report|are reported|is reported|report(?:s|ed)? the|"
    r"held[- ]out|(?:separate|distinct|disjoint) (?:\w+ ){0,3}from (?:\w+ ){0,4}(?:training|train)|(?:not|never) (?:been )?used (?:for|during|in) (?:the )?training|unseen|"
    r"test (?:set|split)|dev(?:elopment)? set|macro[- ]averag\w*|micro[- ]averag\w*|averaged over|"
    r"cross-validation|evaluation (?:set|datasets?|protocol|settings?)|"
    r"(?:is|are) (?:computed|measured|calculated|scored|judged|assessed|rated) (?:with|on|by|using|over|after|against)|"
    r"(?:is|are|was|were) (?:not |never )?(?:seen|used|encountered) (?:during|in|for) (?:the )?(?:training|model selection)|"
    r"tuned on the (?:development|dev|validation) sets?|(?:selected|chosen) (?:on|by) (?:the )?validation|"
    r"model selection|consulted (?:only )?once|"
    r"(?:measur|evaluat|report|comput|assess|scor)\w*\b[^.;]{0,60}\b(?:test|dev|development|validation|held-out)\b|"
    r"\btest\w*\b[^.;]{0,60}\b(?:not|never|no)\b[^.;]{0,40}\btrain\w*)\b",
    re.IGNORECASE,
)
DATA = re.compile(
    r"\b(datasets?|corpus|corpora|split|languages?|queries|questions|examples|pairs|sentences|passages|"
    r"parallel|translated|translation|annotat\w+|contains?|consists? of|derived from|absent from|training data|"
    r"provides?|recorded|collected|transcribed|gathered|crawled|sampled from|discarded|filtered|excluded|retained)\b",
    re.IGNORECASE,
)
# A trend or where an effect is largest: a finding, even when it names epochs or steps.
TREND = re.compile(
    r"\b(?:falls?|rises?|grows?|drops?|declines?|increases?|decreases?|shrinks?|saturates?|plateaus?|flattens?|"
    r"degrades?|levels? off|stabili[sz]es?)\s+"
    r"(?:\w+\s+){0,3}?(?:as|when|with|after|once|for|below|above)\b"
    r"|\b(?:gains?|improvements?|effects?|drops?|benefits?|differences?|bias|errors?)\s+(?:is|are|was|were)\s+"
    r"(?:\w+\s+)?(?:largest|smallest|highest|lowest|strongest|weakest|greatest|most|least)\b",
    re.IGNORECASE,
)
SELF = re.compile(r"\b(our|we|the proposed|this (?:paper|work)|ours)\b", re.IGNORECASE)
# Something to compare with: a named model ("ResNet-50", "Whisper-small"), a baseline, "training without X".
COMPARED_SYSTEM = re.compile(
    r"\b(?:[A-Z][\w-]*\d[\w./-]*|[A-Z][a-z]+-[a-z]+|baselines?|teacher|(?:training|models?) without \w+|"
    r"[A-Z][A-Za-z]*[A-Z][A-Za-z]*)\b"
)
# Phrases that set the paper's system against another by themselves ("compared with X, ours ...").
STRONG_COMPARATIVE = re.compile(
    r"\b(outperform\w*|compared (?:to|with)|relative to|better than|worse than|beats?|surpass\w*|"
    r"(?:reduc|lower|cut|decreas)\w* the (?:\w+ ){1,3}of)\b",
    re.IGNORECASE,
)
COMPARATIVE = re.compile(
    r"\b(outperform\w*|better than|worse than|higher than|lower than|surpass\w*|compared (?:to|with)|"
    r"relative to|than|versus|vs\.?|against|beats?|underperform\w*|(?:reduc|lower|cut|decreas)\w* the (?:\w+ ){1,3}of|"
    r"(?:improv|gain|advantage|rais|lift|boost)\w*\b(?:[^.;]|\.(?=\d)){0,60}\bover)\b",
    re.IGNORECASE,
)
# Registry experiment configuration keys for the parameters a paper states.
CONFIG_KEYS = {
    "batch_size": "batch_size",
    "learning_rate": "lr",
    "weight_decay": "weight_decay",
    "steps": "steps",
    "max_length": "max_length",
    "warmup": "warmup_ratio",
    "temperature": "temperature",
}
LABELS = {
    "batch_size": "batch size",
    "learning_rate": "learning rate",
    "weight_decay": "weight decay",
    "steps": "steps",
    "max_length": "max length",
    "warmup": "warmup",
    "temperature": "temperature",
    "seeds": "seeds",
    "alpha": "alpha",
}


def claim_type(sentence: str, mentions: list[Mention], section: str | None = None) -> ClaimType:
    """The type of a claim sentence (rules in the module docstring)."""
    if SCOPE.search(sentence) or (section and re.search(r"limitation", section, re.IGNORECASE)):
        return "scope"
    qs = quantities(sentence)
    if TREND.search(sentence):
        return "result"
    if any(q.name for q in qs) or OPTIMIZERS.search(sentence) or HARDWARE.search(sentence) or SETUP.search(sentence):
        return "setup"
    if PROTOCOL.search(sentence):
        return "protocol"
    methods = {m.id for m in mentions if m.category == "methods"}
    datasets = {m.id for m in mentions if m.category == "datasets"}
    comparative = bool(COMPARATIVE.search(sentence))
    # Two systems set against each other: two known methods, or the paper's own and another.
    own = bool(SELF.search(sentence)) or any(m.generic for m in mentions)
    strong = bool(STRONG_COMPARATIVE.search(sentence))
    if comparative and (len(methods) >= 2 or (own and (strong or methods or COMPARED_SYSTEM.search(sentence)))):
        return "comparison"
    counted = any(q.unit and q.unit not in ("%", "x", "point") for q in qs)
    languages = {m.id for m in mentions if m.category == "languages"}
    if (datasets or languages or counted) and (counted or DATA.search(sentence)) and not comparative:
        return "data"
    if comparative and methods:
        return "comparison"
    return "result"


def parse_values(sentence: str, kind: ClaimType) -> dict[str, Any]:
    """The values a setup or data claim states (empty for other types)."""
    if kind not in ("setup", "data"):
        return {}
    out: dict[str, Any] = {}
    for q in quantities(sentence):
        key = q.name or (q.unit if kind == "data" and q.unit not in (None, "%", "x") else None)
        if key and key not in out:
            out[key] = int(q.value) if q.value.is_integer() and q.decimals == 0 else q.value
    if kind == "setup":
        m = OPTIMIZERS.search(sentence)
        if m:
            out["optimizer"] = m.group(1)
        m = HARDWARE.search(sentence)
        if m:
            out["hardware"] = " ".join(m.group(1).split())
    return out


def against_config(values: dict[str, Any], train: dict[str, Any], grid: dict[str, list[Any]]) -> list[str]:
    """Each stated value beside the experiment's ("batch size: paper 100, ours 32"), where it has one."""
    out = []
    for key, value in values.items():
        ours: Any = None
        if key in CONFIG_KEYS and CONFIG_KEYS[key] in train:
            ours = train[CONFIG_KEYS[key]]
        elif key == "seeds" and "seed" in grid:
            ours = len(grid["seed"])
        elif key == "alpha" and "alpha" in grid:
            ours = ", ".join(str(a) for a in grid["alpha"])
        if ours is not None:
            paper = f"{value:g}" if isinstance(value, float) else str(value)
            out.append(f"{LABELS.get(key, key)}: paper {paper}; ours {ours}")
    return out
