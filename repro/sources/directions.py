"""The words that say a quantity went up or down, and the relative changes two stated numbers allow.

One lexicon for the text check (a claim's "reduces by 21 %" against the passage's numbers) and the
consistency findings (a paper's "an increase of 32 %" against its own numbers), so that a word read as
a decrease in one is never read as nothing in the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar

from repro.sources.quantities import Quantity, relative_change

# Verbs of change only: "improves" says better, not up (an error rate improves by falling).
RISE_VERBS = r"increas\w*|rais\w*|ris(?:e|es|ing)|rose|grew|grow\w*|boost\w*|lengthen\w*|climb\w*"
FALL_VERBS = r"reduc\w*|decreas\w*|lower(?:s|ed|ing)|drop\w*|fall\w*|fell|cut\w*|declin\w*|shr[iau]nk\w*|shorten\w*"
# Comparatives and words of betterment that go with a stated change ("a gain of 4 %", "12 % higher").
MORE_WORDS = r"higher|more|improv\w*|gain\w*"
LESS_WORDS = r"lower\w*|less"

RISE_VERB = re.compile(rf"\b({RISE_VERBS})\b", re.I)
FALL_VERB = re.compile(rf"\b({FALL_VERBS})\b", re.I)
UP = re.compile(rf"\b({RISE_VERBS}|{MORE_WORDS})\b", re.I)
DOWN = re.compile(rf"\b({FALL_VERBS}|{LESS_WORDS})\b", re.I)
CHANGE = re.compile(rf"\b({RISE_VERBS}|{FALL_VERBS}|{MORE_WORDS}|{LESS_WORDS})\b", re.I)


def direction(text: str) -> int:
    """+1 when ``text`` says up, -1 when it says down, 0 when it says neither or both."""
    up, down = bool(UP.search(text)), bool(DOWN.search(text))
    return 0 if up == down else (1 if up else -1)


def verb_direction(text: str) -> int:
    """Like :func:`direction`, from verbs of change only."""
    up, down = bool(RISE_VERB.search(text)), bool(FALL_VERB.search(text))
    return 0 if up == down else (1 if up else -1)


Q = TypeVar("Q", bound=Quantity)


def recomputed_changes(pairs: Iterable[tuple[Q, Q]], said: int) -> list[tuple[float, float, Q, Q]]:
    """The percentage changes each stated pair gives: (change, tolerance, base, other).

    A decrease (``said`` -1) is relative to the larger value (the baseline), an increase (+1) to the
    smaller; when the direction is unknown (0) both readings are offered.
    """
    out = []
    for a, b in pairs:
        big, small = (a, b) if abs(a.value) >= abs(b.value) else (b, a)
        orders = [(big, small)] if said < 0 else [(small, big)] if said > 0 else [(big, small), (small, big)]
        for base, other in orders:
            change = relative_change(base.value, other.value)
            if change is not None:
                tol = (a.tolerance + b.tolerance) / max(abs(base.value), 1e-12) * 100
                out.append((change, tol, base, other))
    return out


def unexplained_change(stated: Quantity, pairs: Iterable[tuple[Q, Q]], said: int) -> tuple[float, Q, Q] | None:
    """The recomputed change nearest ``stated`` (a percentage) when none of ``pairs`` gives it:
    (change, base, other); None when one agrees, or when no change can be computed."""
    options = recomputed_changes(pairs, said)
    if not options or any(stated.agrees(c, t) for c, t, _, _ in options):
        return None
    change, _, base, other = min(options, key=lambda o: abs(o[0] - stated.value))
    return change, base, other
