"""Does a passage deny what a claim asserts? Negation scopes and opposite words.

Two cues, each tied to the words the claim and the passage share:

- **negation**: one side negates ("not", "no", "never", "without", "cannot", "none", and the
  relational negations "separate from", "distinct from", "disjoint from", "apart from", "instead
  of") and the other does not; the words under the negation (to the end of its clause, and the
  verb just before "no": "shares *no* text") must be words the other side asserts. A negated
  negative predicate is no negation ("without sacrificing", "not only"), and when both sides
  negate, their polarity agrees.
- **opposites**: the claim uses one word of an antonym pair and the passage the other, next to
  the same words ("*increases* language bias" vs "*reduces* language bias"; "the *same*
  language" vs "*different* languages"; "*fully* parallel" vs "*partly* parallel").

Each function returns a reason (a short phrase for the headline) or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from repro.checks.text_support.words import FUNCTION, NEGATIONS, STOP, stem, words

NEGATORS = NEGATIONS | frozenset(
    [
        "can't",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "hasn't",
        "haven't",
        "won't",
        "lacks",
        "lack",
        "lacking",
        "absent",
        "fails",
        "failed",
        "unable",
        "outside",
    ]
)
# "leaves X unaddressed", "remains untested": a negation carried by the word itself, with the
# verb it denies as its scope ("address"), so that it agrees with "does not address".
_UN_PARTICIPLE = re.compile(r"^un(?!der|til|less|ique|iform|ivers|it)([a-z]{3,}(?:ed|en))$")
# "separate and distinct from", "disjoint from": the relation is denied for what follows "from".
RELATIONAL = re.compile(
    r"\b(?:separate|distinct|disjoint|different|apart|excluded|independent)\s+(?:and\s+\w+\s+)?from\b|\binstead of\b",
    re.I,
)
# Negated negative predicates are affirmations ("without sacrificing X" keeps X).
NEGATIVE_PREDICATES = frozenset(
    stem(w)
    for w in [
        "sacrifice",
        "sacrificing",
        "compromise",
        "compromising",
        "hurt",
        "hurting",
        "losing",
        "lose",
        "degrade",
        "degrading",
        "harm",
        "harming",
        "fail",
        "failing",
        "only",
        "just",
        "necessarily",
    ]
)
# A negation reaches to the end of its clause; commas do not end it ("not encountered any data
# samples, whether from the training or testing splits, of the evaluation datasets").
_CLAUSE_END = re.compile(r"[;:?!]|\.(?:\s|$)|\b(?:but|while|whereas|although|however|though|yet|which|so)\b", re.I)
_QUESTION = re.compile(r"\?\s*$")

# Pairs of opposite words (stems); one side per tuple.
ANTONYMS: list[tuple[frozenset[str], frozenset[str]]] = [
    (frozenset(map(stem, a.split())), frozenset(map(stem, b.split())))
    for a, b in [
        (
            "increase increases increased increasing raise raises raised more higher greater larger grow grows grew "
            "rise rises rose",
            "reduce reduces reduced reducing decrease decreases decreased lower less fewer drop drops dropped fall "
            "falls fell smaller mitigate mitigates decline declined cut cuts shrink shrinks shrank",
        ),
        (
            "best better superior strong stronger strongest outperform outperforms",
            "worst worse inferior weak weaker weakest poor poorly underperform underperforms",
        ),
        ("highest maximum", "lowest minimum"),
        ("same identical shared", "different separate unshared distinct"),
        ("stable robust", "unstable fragile"),
        ("balanced even equal", "unbalanced imbalanced uneven unequal"),
        ("fully completely entirely", "partly partially"),
        ("public publicly available released", "private unavailable unreleased proprietary"),
        ("overlap overlaps overlapping", "disjoint separate"),
        ("seen", "unseen"),
        ("included", "excluded"),
    ]
]


def is_question(text: str) -> bool:
    """A question states nothing: it neither supports nor contradicts."""
    return bool(_QUESTION.search(text.strip()))


def negation_scopes(text: str) -> list[list[str]]:
    """For every negation of ``text``, the stems of the content words it denies, in order.

    A scope runs from the negator to the end of its clause (commas do not end it), plus the verb right before "no"
    ("shares no text"); a scope whose first content word is a negative predicate is dropped.
    """
    scopes: list[list[str]] = []
    lowered = text.lower()
    marks = [(m.start(), m.end()) for m in re.finditer(r"[\w']+(?:-[\w']+)*", lowered)]
    toks = [lowered[a:b] for a, b in marks]
    relational_ends = {m.end() for m in RELATIONAL.finditer(lowered)}
    for i, tok in enumerate(toks):
        un = _UN_PARTICIPLE.match(tok)
        if un and un.group(1) not in ("seen", "labeled", "labelled") and stem(un.group(1)) not in NEGATIVE_PREDICATES:
            scopes.append([stem(un.group(1))])
            continue
        starts_scope = tok in NEGATORS or tok.endswith("n't") or marks[i][1] in relational_ends
        if not starts_scope:
            continue
        if tok == "not" and i + 1 < len(toks) and toks[i + 1] == "only":
            continue
        end = _CLAUSE_END.search(lowered, marks[i][1])
        stop = end.start() if end else len(lowered)
        scope_words = [toks[j] for j in range(i + 1, len(toks)) if marks[j][0] < stop]
        if tok == "without":
            # "without fertilising added 1.4 species": an adverbial phrase; it denies its own words,
            # not the sentence's verb after them.
            verb = next((k for k, w in enumerate(scope_words) if k and re.fullmatch(r"[a-z]{3,}ed", w)), None)
            scope_words = scope_words[:verb]
        if marks[i][1] in relational_ends and tok == "of":
            # "random instead of by saliency increased error": the relation denies its noun phrase,
            # not the sentence's verb after it.
            verb = next((k for k, w in enumerate(scope_words) if k and re.fullmatch(r"[a-z]{3,}ed", w)), None)
            scope_words = scope_words[:verb][:4]
        content = [stem(w) for w in scope_words if w not in STOP and w not in NEGATORS and w not in FUNCTION]
        if content and content[0] in NEGATIVE_PREDICATES:
            continue
        if tok == "no" and i > 0 and toks[i - 1] not in STOP:
            content.insert(0, stem(toks[i - 1]))
        if content:
            scopes.append(content)
    return scopes


# "did not affect PESQ" denies any change: the passage's "reduced PESQ" is what it denies.
_CHANGE_STEMS = frozenset(stem(w) for w in ["affect", "change", "alter", "influence", "impact", "modify"])
_CHANGE_VERB = re.compile(
    r"\b(?:increas|reduc|decreas|rais|lower|drop|fell|fall|rose|ris|improv|degrad|declin|shift|boost|cut)\w*\b", re.I
)


def negation_conflict(claim: str, passage: str, weight: Callable[[str], float], min_shared: float = 0.25) -> str | None:
    """A reason when exactly one side negates what the other asserts, else None.

    ``weight`` gives a stem's informativeness (IDF). The negated words that the other side asserts
    must include the negation's first word or carry at least ``min_shared`` of the weight of the
    words the two sides share: the negation denies what the other side says, not a side remark.
    """
    if is_question(passage):
        return None
    c_scopes, p_scopes = negation_scopes(claim), negation_scopes(passage)
    if bool(c_scopes) == bool(p_scopes):
        return None
    negated, other, scopes = ("claim", passage, c_scopes) if c_scopes else ("passage", claim, p_scopes)
    other_stems = {stem(w) for w in words(other) if w not in STOP}
    claim_stems = {stem(w) for w in words(claim) if w not in STOP and w not in NEGATORS}
    shared = claim_stems & {stem(w) for w in words(passage) if w not in STOP}
    total = sum(weight(s) for s in shared)
    if not total:
        return None
    for scope in scopes:
        denied = set(scope) & other_stems & shared
        changed = next((s for s in scope[:2] if s in _CHANGE_STEMS), None)
        if changed and _CHANGE_VERB.search(other) and set(scope) & shared:
            what = ", ".join(sorted(set(scope) & shared, key=lambda s: -weight(s))[:3])
            asserts = "passage" if negated == "claim" else "claim"
            return f"negation: the {negated} denies the change the {asserts} states ({changed}: {what})"
        if not denied:
            continue
        if scope[0] in denied or sum(weight(s) for s in denied) >= min_shared * total:
            what = ", ".join(sorted(denied, key=lambda s: -weight(s))[:3])
            asserts = "passage" if negated == "claim" else "claim"
            return f"negation: the {negated} denies what the {asserts} asserts ({what})"
    return None


def _neighbours(stems: list[str], i: int, width: int = 4) -> set[str]:
    return {s for s in stems[max(0, i - width) : i] + stems[i + 1 : i + 1 + width] if s not in STOP}


def opposite_conflict(claim: str, passage: str, skip: Callable[[str], bool] = lambda s: False) -> str | None:
    """A reason when the claim and the passage use opposite words next to the same words, else None.

    ``skip(stem)`` excludes words another rule already decided (e.g. a comparison whose roles were
    compared as a whole).
    """
    if is_question(passage):
        return None
    c = [stem(w) for w in words(claim)]
    p = [stem(w) for w in words(passage)]
    cset = set(c)
    for side_a, side_b in ANTONYMS:
        for first, second in ((side_a, side_b), (side_b, side_a)):
            for i, s in enumerate(c):
                if s not in first or skip(s) or s in set(p):
                    continue
                near_c = _neighbours(c, i)
                # The passage saying the claim's word about the same words agrees with it.
                agreeing = set().union(*[_neighbours(p, j) for j, t in enumerate(p) if t in first]) if p else set()
                for j, t in enumerate(p):
                    if t not in second or skip(t) or t in cset:
                        continue
                    # "not public" says what "unavailable" says: a negated opposite agrees.
                    if any(w in NEGATORS or w.endswith("n't") for w in p[max(0, j - 2) : j]):
                        continue
                    near = (near_c & _neighbours(p, j)) - agreeing
                    if near:
                        return (
                            f"opposite words: the claim says '{s}', the passage '{t}' ({', '.join(sorted(near)[:3])})"
                        )
    return None
