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


# ---- Inputs of the learned type model (repro.claims.claim_model.TypeModel)
#
# The rules above were written for ML papers and for the template sets' labels. The type model is
# fitted on papers of other fields (bench/data/heldout-papers: ecology, batteries, a clinical trial,
# labour economics, speech, vision), so its inputs are field-free: where a sentence sits (the kind
# of its section, by heading words any field uses) and the shape of what it says (a comparative, a
# change, a procedure done to the object of study, an aim, a limitation, past or present tense).

SECTION_KINDS: tuple[str, ...] = (
    "abstract",
    "introduction",
    "related",
    "methods",
    "results",
    "discussion",
    "conclusion",
    "other",
)
_SECTION_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("abstract", re.compile(r"\b(abstract|summary)\b", re.I)),
    ("related", re.compile(r"\b(related work|background|prior work|literature|previous work)\b", re.I)),
    ("introduction", re.compile(r"\b(introduction|motivation|overview)\b", re.I)),
    ("conclusion", re.compile(r"\b(conclusions?|concluding|outlook)\b", re.I)),
    ("discussion", re.compile(r"\b(discussion|limitations?|implications|threats to validity)\b", re.I)),
    (
        "results",
        re.compile(
            r"\b(results?|findings|analysis|analyses|ablations?|evaluation results|main results|efficacy|safety|"
            r"performance|estimates|robustness|heterogeneity|experiments and results)\b",
            re.I,
        ),
    ),
    (
        "methods",
        re.compile(
            r"\b(methods?|methodology|materials|experimental|experiments?|design|set-?up|data|datasets?|"
            r"participants|procedures?|protocol|training|implementation|estimation|empirical strategy|"
            r"identification|study (?:sites?|area|population)|sampling|measurements?|model|approach|baselines?|"
            r"interventions?|outcomes|characteri[sz]ation|synthesis|evaluation)\b",
            re.I,
        ),
    ),
)


def section_kind(headings: list[str] | str | None) -> str:
    """The kind of section (:data:`SECTION_KINDS`) of a sentence under ``headings`` (outermost first).

    The outermost heading that names a kind decides ("4. Results" > "4.1 Participants" is results).
    """
    if isinstance(headings, str):
        headings = [headings]
    for head in headings or []:
        for kind, pattern in _SECTION_WORDS:
            if pattern.search(head):
                return kind
    return "other"


TYPE_CUES: dict[str, re.Pattern[str]] = {
    # Two things set against each other.
    "than": re.compile(r"\bthan\b", re.I),
    "contrast": re.compile(
        r"\b(compared (?:with|to)|relative to|versus|vs\.?|against|whereas|in contrast|unlike|over (?:the )?\w+ baseline|"
        r"outperform\w*|superior|inferior|improv\w* (?:on|over|upon)|similar to|close to|as (?:\w+ ){1,2}as|"
        r"the same as|differ\w*|gap|margin|advantage|deficit)\b",
        re.I,
    ),
    "comparative_word": re.compile(
        r"\b(better|worse|more|less|fewer|higher|lower|larger|smaller|greater|faster|slower|stronger|weaker|"
        r"[a-z]{3,}er than)\b",
        re.I,
    ),
    "superlative": re.compile(r"\b(best|worst|highest|lowest|largest|smallest|most|least|strongest|weakest)\b", re.I),
    "change": re.compile(
        r"\b(increas\w*|decreas\w*|reduc\w*|rais\w*|lower(?:ed|s)|fell|falls?|rose|rises?|declin\w*|improv\w*|"
        r"grew|grows?|drop\w*|shift\w*|gain\w*|loss\w*)\b",
        re.I,
    ),
    "from_to": re.compile(r"\bfrom\s+[-−~]?\$?\d[\d.,]*\s*\S*\s+(?:\S+\s+){0,4}?to\s+[-−~]?\$?\d", re.I),
    "significance": re.compile(
        r"\b(significan\w*|p\s*[<=>]|confidence interval|CI\b|standard error|distinguishable)", re.I
    ),
    "inference": re.compile(
        r"\b(suggests?|indicates?|implies|implying|consistent with|confirm\w*|show(?:s|ed|n)? that|reveal\w*|"
        r"demonstrat\w*|we find|we found|we observe|appears? to|possibly|likely)\b",
        re.I,
    ),
    # What the work sets out to do, and where it stops.
    "aim": re.compile(
        r"\b((?:in )?this (?:work|paper|study|trial|article|report)|(?:here|in this \w+),? we|we (?:study|test|examine|"
        r"investigate|ask|estimate|assess|evaluate|address|consider|focus)|aims? (?:to|at)|whether)\b",
        re.I,
    ),
    "limit": re.compile(
        r"\b(only|cannot|can not|may not|might not|unclear|unknown|not (?:designed|measured|quantified|recorded|"
        r"assessed|tested|studied|evaluated|examined|considered|address\w*|representative|record)|too (?:short|small|few)|"
        r"limitations?|restrict\w*|limited|do(?:es)? not|did not|we did not|remains? (?:unknown|open|unclear)|"
        r"future work|beyond|shorter than|small(?:er)? samples?|is small|generali[sz]\w*|transfer)\b",
        re.I,
    ),
    # How the study was done.
    "procedure": re.compile(
        r"\b(?:was|were|is|are)\s+(?:\w+ly\s+)?(measured|assessed|computed|calculated|recorded|estimated|obtained|"
        r"determined|evaluated|rated|scored|defined|analy[sz]ed|quantified|compared|tested|counted|weighed|clipped|"
        r"surveyed|sampled|randomi[sz]ed|assigned|stratified|excluded|included|followed|blinded|held out|reported)\b",
        re.I,
    ),
    "design": re.compile(
        r"\b(randomi[sz]\w*|assigned|stratif\w*|eligib\w*|inclusion|exclusion|blind\w*|placebo|controls?|"
        r"primary (?:outcome|analysis|endpoint)|secondary outcomes?|outcomes? (?:was|were|included)|endpoints?|"
        r"seeds?|replicates?|repeated|each (?:value|configuration|run|experiment|condition)|mean of|averaged|"
        r"cross-validation|held[- ]out|test set|validation|metrics?|measured (?:as|by|with|using)|we report|"
        r"report(?:ed)? (?:the|as)|regression|estimat\w+|specification|fixed effects|standard errors?|"
        r"intention-to-treat|we compare|compared (?:systems|models|methods|conditions)|listening test|survey)\b",
        re.I,
    ),
    "setting": re.compile(
        r"\b(prepared|synthesi[sz]ed|calcined|mixed|applied|trained|fine-tun\w*|optimi[sz]\w*|learning rate|"
        r"batch|epochs?|iterations|layers?|parameters|kernel|window|dose|doses|dosing|administered|annealed|heated|"
        r"cycled|assembled|loaded|fed|initiali[sz]ed|implemented|architecture|consist\w* of|built from|"
        r"hyper-?parameters?|set to|we use[ds]?|using|with a|at a rate)\b",
        re.I,
    ),
    "data_noun": re.compile(
        r"\b(datasets?|data|corpus|corpora|database|records?|samples?|participants|patients|subjects|respondents|"
        r"sites?|plots?|images|utterances|speakers|hours|observations|counties|firms|households|individuals|"
        r"species|cells|sequences|documents|pairs|recordings|collected|contains?|comprises?|covers?|covering|"
        r"drawn from|obtained from|derived from|public(?:ly)?|licen[sc]\w*)\b",
        re.I,
    ),
    # A reference condition the paper's own is set against.
    "reference_condition": re.compile(
        r"\b(baselines?|placebo|controls?|pristine|undoped|untreated|unprocessed|standard|vanilla|noisy input|"
        r"reference|previous|prior|earlier|existing|state[- ]of[- ]the[- ]art|competing|alternatives?)\b",
        re.I,
    ),
    # Grammar.
    "past_tense": re.compile(r"\b(?:was|were|had|did|[a-z]{3,}ed)\b", re.I),
    "present_tense": re.compile(r"\b(?:is|are|has|have|does|do)\b", re.I),
    "we": re.compile(r"\b(we|our|us)\b", re.I),
    "hedge": re.compile(r"\b(may|might|could|possibly|perhaps|suggests?)\b", re.I),
    "number": re.compile(r"\d"),
    "percent": re.compile(r"%|\bper ?cent\b|percentage points?", re.I),
}


_NAMED = re.compile(r"\b(?:[A-Z][a-z]*[A-Z0-9][\w.+-]*|[A-Z][a-z]+(?:-[A-Za-z0-9]+)+|[A-Z]{2,}[\w-]*|[A-Z][a-z]{2,})\b")


def type_features(sentence: str, kind_of_section: str) -> dict[str, float]:
    """The type model's field-free inputs: ``cue_<name>`` for each :data:`TYPE_CUES` cue (0/1;
    ``cue_number`` a count of numerals up to 4), and ``sec_<kind>`` one-hot of :data:`SECTION_KINDS`
    (prefixed so that they never shadow a claim-model feature of the same name)."""
    out = {f"cue_{name}": float(bool(p.search(sentence))) for name, p in TYPE_CUES.items()}
    out["cue_number"] = float(min(4, len(re.findall(r"(?<![\w.])\d[\d.,]*", sentence))))
    # Named things (systems, samples, arms, sites): capitalised or alphanumeric words past the first.
    out["cue_names"] = float(min(3, len(set(_NAMED.findall(sentence.split(" ", 1)[-1])))))
    for kind in SECTION_KINDS:
        out[f"sec_{kind}"] = float(kind == kind_of_section)
    return out


TYPE_FEATURES: tuple[str, ...] = (
    *(f"cue_{c}" for c in TYPE_CUES),
    "cue_names",
    *(f"sec_{k}" for k in SECTION_KINDS),
)
