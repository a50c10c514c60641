"""Word tokens for comparing a claim with a passage: lower case, light stemming, no stop words.

``tokens("The models were evaluated on unseen languages")`` -> ``["model", "evaluat", "unseen",
"languag"]``. Hyphenated names stay whole (``xquad-r``, ``x-x-mono``); Greek letters are spelled
out (``α`` -> ``alpha``) so that a claim written in words matches a paper written in symbols.
"""

from __future__ import annotations

import re

STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "and",
        "or",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "their",
        "our",
        "we",
        "they",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "when",
        "where",
        "how",
        "than",
        "then",
        "there",
        "here",
        "such",
        "into",
        "over",
        "under",
        "about",
        "across",
        "using",
        "use",
        "used",
        "uses",
        "via",
        "per",
        "each",
        "both",
        "also",
        "can",
        "may",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "will",
        "would",
        "during",
        "before",
        "after",
        "within",
        "among",
        "through",
        "upon",
        "onto",
        "toward",
        "towards",
        "since",
        "until",
        "whether",
        "between",
        "i",
        "ii",
        "iii",
        "iv",
        "s",
    ]
)
# The plain negation words (polarity adds contractions and "lack" to find negations).
NEGATIONS = frozenset(["not", "no", "never", "none", "nor", "neither", "without", "cannot"])
# Negators and quantifiers are content for polarity, but not for topical overlap.
FUNCTION = NEGATIONS | frozenset(
    [
        "all",
        "every",
        "any",
        "only",
        "solely",
        "exclusively",
        "some",
        "most",
        "many",
        "several",
        "few",
        "more",
        "less",
    ]
)
_SUFFIXES = (
    ("ational", "ate"),
    ("ization", "ize"),
    ("ations", "ate"),
    ("ation", "ate"),
    ("tions", ""),
    ("tion", ""),
    ("nesses", ""),
    ("ness", ""),
    ("ments", ""),
    ("ment", ""),
    ("ingly", ""),
    ("ings", ""),
    ("ing", ""),
    ("ied", "y"),
    ("ies", "y"),
    ("edly", ""),
    ("ed", ""),
    ("es", ""),
    ("ly", ""),
    ("s", ""),
)
# Words papers use interchangeably, mapped to one stem ("beats" = "outperforms", "lowers" = "reduces").
_SYNONYMS = {
    "beat": "outperform",
    "surpass": "outperform",
    "exceed": "outperform",
    "lower": "reduc",
    "decreas": "reduc",
    "cut": "reduc",
    "mitigat": "reduc",
    "rais": "increas",
    "boost": "increas",
    "enhanc": "improv",
    "mixtur": "mix",
    "demonstrat": "show",
    "indicat": "show",
    "reach": "achiev",
    "obtain": "achiev",
    "attain": "achiev",
    "assess": "evaluat",
    "utiliz": "us",
    "employ": "us",
}
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "λ": "lambda", "τ": "tau", "θ": "theta"}
_WORD = re.compile(r"[\w]+(?:[-@.][\w]+)*")


def stem(word: str) -> str:
    """A light stem: ``evaluation``, ``evaluated``, ``evaluates`` -> ``evaluat``; names are kept.

    Interchangeable words share a stem (``beats``, ``surpasses`` -> ``outperform``).
    """
    w = word.lower()
    if not w.isalpha():
        return w  # names and numbers (xquad-r, r@10, 3e-5) stay as written
    for suffix, repl in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) + len(repl) >= 3:
            if suffix == "s" and w.endswith(("ss", "us", "is")):
                continue
            w = w[: -len(suffix)] + repl
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    return _SYNONYMS.get(w, w)


def words(text: str) -> list[str]:
    """The lower-cased words of ``text`` in order (hyphenated names whole, Greek letters spelled out)."""
    for letter, name in _GREEK.items():
        text = text.replace(letter, f" {name} ")
    text = re.sub(r"\[([^\]]*)\]", r"\1", text)  # "b[atches]" -> "batches"
    return [w.strip(".").lower() for w in _WORD.findall(text)]


def tokens(text: str) -> list[str]:
    """Stemmed content words of ``text``: stop words, negators and quantifiers dropped."""
    return [stem(w) for w in words(text) if w not in STOP and w not in FUNCTION and len(w) > 1]
