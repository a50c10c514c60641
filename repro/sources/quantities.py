"""Numbers in prose with what they count: values, units, named parameters and stated pairs.

``quantities("a learning rate of 3e-5 and a batch size of 100")`` finds ``3e-5`` (named
``learning_rate``) and ``100`` (``batch_size``); ``"in 11 languages and 7 languages"`` gives two
counts of ``language``; ``"a 30.1% reduction"`` a percentage. What is *not* a quantity: references
(``Table 3``, ``Section 4.2``, ``Eq (1)``, ``Appendix A.1``), citation years (``Roy et al., 2020``),
digits inside names (``XLM-R``, ``R@10``, ``A100``, ``COVID-19``) and footnote markers glued to a
word or a full stop (``respectively.2``, ``2The evaluation``).

Number words (``one`` ... ``twenty``, ``thirty`` ... ``ninety``, ``hundred``) count as numbers, so
"nine languages" and "9 languages" are the same quantity. Multipliers are ratios (unit ``x``):
"twofold", "two-fold", "twice", "doubles", "triples"; fractions of a change are percentages
(approximate): "a third" (33.3 %), "half", "halves" (50 %), "a quarter" (25 %), "two thirds". Each quantity keeps its printed precision:
``30.1`` stands for anything in [30.05, 30.15], ``30`` for [29.5, 30.5].

:func:`stated_pairs` finds the pairs of values a sentence sets against each other ("from 261.5 to
221.1", "286.6 ..., compared to 410.2", "227.1 vs. 226.7"), from which relative changes can be
recomputed (:func:`relative_change`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

WORD_NUMBERS = {
    "zero": 0,
    "one": 1,
    "single": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
}

# Hyper-parameters and counts a claim may state, with the phrases that name them.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "learning_rate": ("learning rate", "lr", "step size"),
    "batch_size": ("batch size", "batch sizes", "mini-batch size", "minibatch size", "batches of"),
    "weight_decay": ("weight decay",),
    "warmup": ("warmup", "warm-up", "warmup steps", "warmup ratio", "warm-up ratio"),
    "dropout": ("dropout", "dropout rate"),
    "temperature": ("temperature", "softmax temperature"),
    "max_length": ("max length", "maximum length", "maximum sequence length", "max sequence length", "sequence length"),
    "alpha": ("alpha", "α"),
    "beta": ("beta", "β"),
    "margin": ("margin",),
    "discount_factor": ("discount factor", "discount", "gamma", "γ"),
    "momentum": ("momentum",),
    "label_smoothing": ("label smoothing",),
    "gradient_clipping": ("gradient clipping", "gradient norm", "clipped to a norm of", "clip norm", "max grad norm"),
}
# Counted nouns (singular stems) whose numbers name a setting: "3 seeds", "20,000 steps".
COUNT_PARAMETERS = {
    "seed": "seeds",
    "run": "seeds",
    "epoch": "epochs",
    "step": "steps",
    "iteration": "steps",
    "update": "steps",
    "gpu": "gpus",
    "layer": "layers",
}

_WORD_RE = "|".join(sorted(WORD_NUMBERS, key=len, reverse=True))
# A printed number: 3e-5, 1,190, 0.8121, .593, 30.1%, 186K, 2–4 (a range gives two numbers).
_NUMBER = re.compile(
    r"(?:(?<=\d[-–])|(?<![\w@.\-–/]))(?<![\w][.,])"
    r"(?P<sign>[-+−])?(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
    r"(?P<exp>[eE][-+−]?\d+)?"
    r"(?P<mult>[KMB](?![a-zA-Z]))?"
    r"(?P<pct>\s?%|\s?percent\b|\s?pp\b|\s?percentage points?\b)?"
    r"(?![\w@]|[.,]\d)"
    rf"|(?<![\w-])(?P<word>{_WORD_RE})(?![\w-])",
    re.IGNORECASE,
)
_REFERENCE = re.compile(
    r"\b(?:Tables?|Tab\.|Figures?|Figs?\.?|Sections?|Sec\.|§|Eqs?\.?|Equations?|Appendix|Appendices|Algorithm|"
    r"Lines?|Theorem|Lemma|Chapter|Step)\s*\(?[A-Z]?\d+(?:\.\d+)*\)?"
    r"(?:\s*(?:,|and|to|through|-|–)\s*[A-Z]?\d+(?:\.\d+)*)*",
    re.IGNORECASE,
)
_CITATION = re.compile(
    r"\bet al\.?,?\s*\(?(?:19|20)\d\d[a-z]?\)?|\b(?:19|20)\d\d[a-z]\b|\(\s*[A-Z][^()]*?,?\s(?:19|20)\d\d[a-z]?\s*[;)]"
    r"|\[\d+(?:,\s*\d+)*\]|\bv\d+(?:\.\d+)*\b"
)
_FOOTNOTE = re.compile(r"(?<=[a-z\)\]][.,;:])\d{1,2}(?=\s|[A-Z]|$)|^\d{1,2}(?=[A-Z][a-z])|^\d{1,2}\s+(?=[A-Z][a-z])")
# Nouns whose numbers are counts a claim can state ("11 languages", "3 seeds", "an 11-way dataset").
COUNT_NOUNS = {
    "language",
    "dataset",
    "corpus",
    "corpora",
    "query",
    "question",
    "passage",
    "pair",
    "example",
    "sample",
    "sentence",
    "document",
    "token",
    "seed",
    "run",
    "epoch",
    "step",
    "iteration",
    "update",
    "layer",
    "head",
    "gpu",
    "tpu",
    "cpu",
    "core",
    "model",
    "baseline",
    "method",
    "setting",
    "candidate",
    "answer",
    "paragraph",
    "benchmark",
    "task",
    "word",
    "character",
    "hour",
    "minute",
    "day",
    "parameter",
    "annotator",
    "label",
    "class",
    "domain",
    "split",
    "batch",
    "triplet",
    "way",
    "fold",
    "point",
    "item",
    "id",
    "line",
    "resample",
    "experiment",
    "configuration",
    "trial",
    "worker",
    "node",
    "participant",
    "user",
    "subject",
    "image",
    "article",
    "page",
    "table",
    "figure",
    "version",
    "direction",
    "negative",
    "positive",
    "setup",
    "type",
}
_STOP_UNIT = {
    "and",
    "or",
    "to",
    "for",
    "in",
    "on",
    "with",
    "by",
    "from",
    "at",
    "the",
    "a",
    "an",
    "vs",
    "of",
    "than",
    "is",
    "are",
    "was",
    "were",
    "that",
    "which",
    "as",
    "per",
    "each",
}


@dataclass(frozen=True)
class Quantity:
    """One number as the text prints it, with its unit and (if any) the parameter it sets."""

    value: float
    text: str
    unit: str | None = None  # "%" (percentages and percentage points), "x" (times), or a counted noun ("language")
    name: str | None = None  # a parameter from PARAMETERS / COUNT_PARAMETERS, e.g. "batch_size", "seeds"
    decimals: int = 0
    start: int = 0
    end: int = 0
    approximate: bool = False  # "about", "over", "~", "nearly": the text does not give it exactly

    @property
    def tolerance(self) -> float:
        """Half a unit of the last printed digit: how far the true value may be from the printed one."""
        if self.approximate:
            return max(abs(self.value) * 0.05, 0.5 * 10**-self.decimals)
        return 0.5 * 10**-self.decimals

    def agrees(self, value: float, tolerance: float = 0.0) -> bool:
        """Whether ``value`` (known to within ``tolerance``) is what this quantity prints."""
        return abs(self.value - value) <= self.tolerance + tolerance + 1e-9 * max(1.0, abs(value))


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    """``text`` with every match of ``pattern`` replaced by spaces (offsets stay valid)."""
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def _unit_after(text: str, end: int) -> str | None:
    """The counted noun after a number ("11 parallel languages" -> ``language``), within four words.

    Modifiers in between (adjectives, names such as "NVIDIA A100-80 GB") are skipped; a
    preposition, a verb or punctuation ends the search.
    """
    rest = text[end : end + 80]
    m = re.match(r"[-–]?\s*", rest)
    tokens = rest[m.end() if m else 0 :].split()[:5]
    for i, token in enumerate(tokens):
        word = token.strip("()[]{}\"'").lower()
        bare = word.rstrip(".,;:")
        if not bare:
            return None
        if "-" in bare.strip("-") and bare == word and i + 1 < len(tokens):
            continue  # a compound modifier ("question-answer pairs", "pre-trained models")
        noun = singular(bare.split("-")[-1])
        if noun in COUNT_NOUNS or noun == "one":
            return noun
        if _plural_noun(bare) and (i + 1 == len(tokens) or bare != word or tokens[i + 1].lower() in _STOP_UNIT):
            return singular(bare)  # "960 hours of speech", "120 clinicians in four hospitals"
        if bare in _STOP_UNIT or bare != word or bare.endswith("ed"):
            return None  # a preposition, the end of a clause or a verb: no counted noun follows
    return None


# Verbs in -s that follow a number without counting anything ("5 gives 0.0625").
_VERBS_S = frozenset(
    [
        "gives",
        "shows",
        "uses",
        "means",
        "makes",
        "takes",
        "needs",
        "yields",
        "leads",
        "remains",
        "seems",
        "appears",
        "works",
        "helps",
        "does",
        "has",
        "goes",
        "comes",
        "reaches",
        "achieves",
        "improves",
        "reduces",
        "increases",
        "outperforms",
        "matches",
        "exceeds",
        "falls",
        "rises",
        "drops",
        "holds",
        "provides",
        "contains",
        "covers",
        "includes",
        "lists",
        "reports",
    ]
)


def _plural_noun(word: str) -> bool:
    """Whether ``word`` looks like a plural noun (so that a number before it counts it)."""
    return (
        word.isalpha()
        and len(word) > 3
        and word.endswith("s")
        and not word.endswith(("ss", "us", "is", "ous"))
        and word not in _VERBS_S
    )


def singular(word: str) -> str:
    """A plural noun's singular stem, lightly: ``languages`` -> ``language``, ``queries`` -> ``query``."""
    w = word.lower()
    if w.endswith("s") and w[:-1] in COUNT_NOUNS:
        return w[:-1]  # "gpus", "ids"
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        return w[:-1]
    return w


_PHRASES = sorted(((p, n) for n, ps in PARAMETERS.items() for p in ps), key=lambda r: -len(r[0]))
_PARAM_TAIL = re.compile(
    r"(?:(?<![\w-])(?P<p>" + "|".join(re.escape(p) for p, _ in _PHRASES) + r")\s*(?:,|and)?\s*)+"
    r"(?:\s*(?:of|set to|is|was|were|=|:|equal to|to|at|fixed at))*\s*$"
)


def _parameters_before(text: str, start: int) -> list[str]:
    """The parameters a number sets when the text names them just before it.

    "a batch size of 100" -> ``["batch_size"]``; "α and β to 0.5" -> ``["alpha", "beta"]``.
    """
    window = re.sub(r"[\s(]+$", " ", text[max(0, start - 48) : start].lower())
    m = _PARAM_TAIL.search(window)
    if not m:
        return []
    names = dict(_PHRASES)
    found = re.findall(r"(?<![\w-])(" + "|".join(re.escape(p) for p, _ in _PHRASES) + r")(?![\w-])", m.group(0))
    return list(dict.fromkeys(names[f] for f in found))


def quantities(text: str) -> list[Quantity]:
    """Every quantity of ``text`` in order (see the module docstring for what counts)."""
    masked = _blank(_blank(_blank(text, _FOOTNOTE), _CITATION), _REFERENCE)
    out: list[Quantity] = []
    for m in _NUMBER.finditer(masked):
        if m.group("word"):
            word = m.group("word").lower()
            # "one of the", "one language" -- keep only number words that count something.
            unit = _unit_after(masked, m.end())
            if unit == "one":
                unit = out[-1].unit if out else None  # "one language, X-Y in two different ones"
            if unit is None:
                continue
            out.append(
                Quantity(
                    value=float(WORD_NUMBERS[word]),
                    text=m.group(0),
                    unit=unit,
                    name=COUNT_PARAMETERS.get(unit),
                    start=m.start(),
                    end=m.end(),
                )
            )
            continue
        raw = m.group("num").replace(",", "")
        value = float(raw)
        if m.group("exp"):
            value *= 10 ** int(m.group("exp")[1:].replace("−", "-"))
        if m.group("sign") and m.group("sign") in "-−":
            value = -value
        mult = (m.group("mult") or "").upper()
        if mult:
            value *= {"K": 1e3, "M": 1e6, "B": 1e9}[mult]
        decimals = len(raw.split(".", 1)[1]) if "." in raw else 0
        if m.group("exp"):
            decimals = max(0, decimals - int(m.group("exp")[1:].replace("−", "-")))
        pct = m.group("pct")
        if pct:
            unit = "%"
        elif re.match(r"\s*(?:x|×|times|-fold|fold)\b", masked[m.end() :]):
            unit = "x"
        else:
            unit = _unit_after(masked, m.end())
        if unit == "one" and out:
            unit = out[-1].unit  # "X-Y in two different ones"
        elif unit == "one":
            unit = None
        names = _parameters_before(masked, m.start()) or [COUNT_PARAMETERS.get(unit or "")]
        before = masked[max(0, m.start() - 12) : m.start()].lower()
        approximate = bool(
            re.search(r"(about|around|over|nearly|almost|roughly|approximately|~|≈|more than)\s*$", before)
        )
        for name in names:
            out.append(
                Quantity(
                    value=value,
                    text=m.group(0).strip(),
                    unit=unit,
                    name=name,
                    decimals=decimals,
                    start=m.start(),
                    end=m.end(),
                    approximate=approximate or bool(mult),
                )
            )
    out += _word_ratios(masked)
    out.sort(key=lambda q: q.start)
    return _share_units(masked, out)


_MULTIPLIERS = {"two": 2, "three": 3, "four": 4, "five": 5, "ten": 10}
_MULTIPLIER = re.compile(
    r"(?<![\w-])(?:(?P<n>two|three|four|five|ten)[- ]?fold|(?P<twice>twice|doubl(?:e|es|ed|ing))|(?P<thrice>tripl(?:e|es|ed|ing)))(?![\w-])",
    re.IGNORECASE,
)
_FRACTIONS = {"a third": 100 / 3, "one third": 100 / 3, "two thirds": 200 / 3, "a quarter": 25.0, "half": 50.0}
_FRACTION = re.compile(
    r"(?<![\w-])(?P<f>a third|one third|two thirds|two-thirds|a quarter|one quarter|half|halv(?:e|es|ed|ing))(?![\w-])",
    re.IGNORECASE,
)


def _word_ratios(text: str) -> list[Quantity]:
    """Multipliers ("twofold", "doubles": unit ``x``) and fractions ("a third", "halves": ``%``, approximate)."""
    out = []
    for m in _MULTIPLIER.finditer(text):
        value = 2.0 if m.group("twice") else 3.0 if m.group("thrice") else float(_MULTIPLIERS[m.group("n").lower()])
        out.append(Quantity(value=value, text=m.group(0), unit="x", start=m.start(), end=m.end()))
    for m in _FRACTION.finditer(text):
        word = m.group("f").lower().replace("-", " ").replace("one quarter", "a quarter")
        if word.startswith("halv"):
            word = "half"
        if (
            word == "half"
            and re.match(r"\s+(?:of|the|a|an)\b", text[m.end() :])
            and not re.search(r"\b(?:by|to)\s*$", text[: m.start()])
        ):
            continue  # "half of the languages" is a share, not a change
        out.append(
            Quantity(value=_FRACTIONS[word], text=m.group(0), unit="%", start=m.start(), end=m.end(), approximate=True)
        )
    return out


def _share_units(text: str, qs: list[Quantity]) -> list[Quantity]:
    """Spread a counted noun over coordinated numbers: "11 and 7 parallel languages" counts languages twice."""
    out = list(qs)
    for i in range(len(out) - 2, -1, -1):
        a, b = out[i], out[i + 1]
        between = text[a.end : b.start]
        if a.unit is None and b.unit and b.unit != "%" and re.fullmatch(r"\s*(?:and|or|to|-|–|,)\s*", between):
            out[i] = Quantity(**{**a.__dict__, "unit": b.unit, "name": a.name or b.name})
    return out


_PAIR_BETWEEN = re.compile(
    r"^\s*(?:to|vs\.?|versus|against|compared (?:to|with)|relative to|and)\s*$"
    r"|^\s*\)?\s*[^.;]{0,60}?\b(?:compared (?:to|with)|versus|vs\.?|against|than|relative to)\b[^.;]{0,25}$",
    re.IGNORECASE,
)


def stated_pairs(text: str, qs: list[Quantity] | None = None) -> list[tuple[Quantity, Quantity]]:
    """Pairs of plain values the sentence sets against each other: (first, second) in reading order.

    "from A to B", "A vs. B", "A (B)", "A, compared to B", "A ... than ... B". Percentages and counts
    are not paired: a relative change is recomputed from the values it compares.
    """
    qs = quantities(text) if qs is None else qs
    plain = [q for q in qs if q.unit is None and q.name is None]
    pairs = []
    for i, a in enumerate(plain):
        for b in plain[i + 1 : i + 3]:
            between = text[a.end : b.start]
            before = text[max(0, a.start - 8) : a.start].lower()
            # "from $9.50 to $12.00": a currency sign stands between "from" and the number.
            from_ = before.rstrip().rstrip("$€£¥").rstrip().endswith("from")
            if _PAIR_BETWEEN.search(between) or (from_ and "to" in between.lower()):
                pairs.append((a, b))
    return pairs


def relative_change(a: float, b: float) -> float | None:
    """``|a - b|`` as a percentage of ``a`` (None when ``a`` is 0)."""
    if a == 0 or math.isnan(a) or math.isnan(b):
        return None
    return abs(a - b) / abs(a) * 100.0
