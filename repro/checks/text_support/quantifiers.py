"""Does a passage's scope contradict a claim's "only", "all" or "never"?

Three patterns (each returns a reason or None):

- **only against a mix**: the claim restricts to one thing ("only monolingual batches",
  "exclusively X", "X-only") where the passage names it together with another ("a mix of
  monolingual and cross-lingual batches"), the other not being in the claim;
- **all against some**: the claim is universal ("all", "every", "always", "in each") where the
  passage is partial ("most", "some", "generally", "tends to", "a variable number"), or the
  passage restricts ("solely English", "only the English version") what the claim says of all;
- **a closed list**: the passage says "only" A, B and C and the claim adds a name that is not
  among them.
"""

from __future__ import annotations

import re

from repro.checks.text_support.words import STOP, stem, words

EXCLUSIVE = frozenset(["only", "solely", "exclusively", "purely", "just", "alone"])
UNIVERSAL = frozenset(["all", "every", "always", "each", "entire", "whole", "both"])
PARTIAL = frozenset(
    [
        "most",
        "some",
        "several",
        "many",
        "certain",
        "generally",
        "mostly",
        "often",
        "frequently",
        "occasionally",
        "usually",
        "typically",
        "majority",
        "partly",
        "partially",
        "variable",
        "sometimes",
    ]
)
_PARTIAL_PHRASE = re.compile(r"\b(tends? to|in some|not all|a variable number|except|in \d+ of \d+)\b", re.I)
_COORD = frozenset(["and", "or"])


def restricted_terms(text: str) -> list[str]:
    """The stems a text restricts itself to: the word after "only"/"exclusively", or before "-only"."""
    ws = words(text)
    out = []
    for i, w in enumerate(ws):
        if w.endswith("-only"):
            out.append(stem(w[: -len("-only")]))
        elif w in EXCLUSIVE and not (i > 0 and ws[i - 1] in ("not", "the")):
            follow = [x for x in ws[i + 1 : i + 4] if x not in STOP and x not in EXCLUSIVE]
            if follow:
                out.append(stem(follow[0]))
    return out


def _coordinated(ws: list[str], term: str) -> set[str]:
    """Stems coordinated with ``term`` in ``ws`` ("X and Y", "Y and X", "X, Y")."""
    st = [stem(w) for w in ws]
    out: set[str] = set()
    for i, s in enumerate(st):
        if s != term:
            continue
        for j in (i + 2, i - 2):
            if 0 <= j < len(st) and ws[min(i, j) + 1] in _COORD and st[j] not in STOP:
                out.add(st[j])
    return out


def only_conflict(claim: str, passage: str) -> str | None:
    """The claim's "only X" against the passage's "X and Y" (Y not in the claim)."""
    pws = words(passage)
    claim_stems = {stem(w) for w in words(claim)}
    passage_restricted = set(restricted_terms(passage))
    for term in restricted_terms(claim):
        if term in passage_restricted:
            continue
        others = _coordinated(pws, term) - claim_stems
        if others:
            return f"only against a mix: the claim says only '{term}', the passage '{term}' and '{sorted(others)[0]}'"
    return None


def _partial(text: str) -> str | None:
    ws = words(text)
    hit = next((w for w in ws if w in PARTIAL), None)
    if hit:
        return hit
    m = _PARTIAL_PHRASE.search(text)
    return m.group(0) if m else None


def universal_conflict(claim: str, passage: str) -> str | None:
    """The claim's "all"/"every" against the passage's "most"/"some" or its "only"."""
    cws = words(claim)
    universal = next((w for w in cws if w in UNIVERSAL), None)
    if universal is None:
        return None
    pws = words(passage)
    if any(w in UNIVERSAL for w in pws):
        return None
    partial = _partial(passage) if universal != "both" else None  # "both sites" is not "all" of a set
    if partial:
        return f"all against some: the claim says '{universal}', the passage '{partial}'"
    restricted = restricted_terms(passage)
    if restricted and not set(restricted) & {stem(w) for w in cws}:
        return f"all against only: the claim says '{universal}', the passage only '{restricted[0]}'"
    if restricted:
        # "All language versions" vs "only the English version": the restricted word is not universal in the claim.
        return f"all against only: the claim says '{universal}', the passage only '{restricted[0]}'"
    return None


def closed_list_conflict(claim_names: set[str], passage: str, passage_names: set[str]) -> str | None:
    """The passage's "only A, B and C" against a claim naming something else of the same list."""
    if not passage_names or not re.search(r"\b(only|solely|exclusively)\b", passage, re.I):
        return None
    extra = claim_names - passage_names
    if extra and claim_names & passage_names:
        return f"a closed list: the passage names only {', '.join(sorted(passage_names))}, the claim also {sorted(extra)[0]}"
    return None


NEGATIVE_UNIVERSAL = frozenset(["none", "never", "neither", "nobody", "nothing"])


def exception_to_universal(claim: str, passage: str, reason: str) -> str | None:
    """A negation or opposite word against a claim about all (or none, or only one) of a set.

    "significant at both sites" against "..., but ... at Willow Flats was not significant"; "none
    of the samples cracked" against "cracking in most pristine particles": the passage denies the
    claim for part of the set, so the claim fails by its quantifier. Not when the passage uses a
    universal itself (then both speak of the whole set, and the polarity decides).
    """
    if not reason.startswith(("negation", "opposite words")):
        return None
    cws, pws = words(claim), set(words(passage))
    if pws & (UNIVERSAL | NEGATIVE_UNIVERSAL):
        return None
    said = next((w for w in cws if w in UNIVERSAL | NEGATIVE_UNIVERSAL), None)
    if said:
        whole = "none" if said in NEGATIVE_UNIVERSAL else "all"
        return f"{whole} against some: the claim says '{said}', the passage makes an exception ({reason})"
    only = next((w for w in cws if w in EXCLUSIVE and w != "alone"), None)
    if only and not pws & EXCLUSIVE:
        return f"only against a mix: the claim says '{only}', the passage says it of others too ({reason})"
    return None
