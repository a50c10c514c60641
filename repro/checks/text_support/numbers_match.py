"""Does a passage carry a claim's numbers? Values, units, parameters and recomputed percentages.

Every quantity of the claim (see :mod:`repro.sources.quantities`) is looked for in the passage:

- **matched** when the passage prints the same value within the printed precision of either side
  (``30%`` matches ``30.1%``; ``0.01`` matches ``1e-2``; ``nine`` matches ``9``), a fraction
  matches its percentage (``0.301`` ~ ``30.1%``), or a percentage is what the passage's stated pair
  gives ("by 30%" against "286.6 ..., compared to 410.2": 30.1 %, recomputed);
- **in conflict** when it is not matched but the passage states a quantity *of the same kind*:
  another percentage, another count of the same thing (``12 languages`` vs ``11 languages``),
  another value of the same parameter (``batch size of 32`` vs ``batch size of 100``), or, for a
  plain value, another plain value;
- **missing** otherwise: the passage does not speak to it.

The status of the claim is ``mismatch`` if any number conflicts, else ``absent`` if any is missing,
else ``match`` (``none`` when the claim has no numbers). The text check never calls a claim
supported unless the status is ``match`` or ``none``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from repro.sources.directions import direction, recomputed_changes, verb_direction
from repro.sources.quantities import Quantity, quantities, stated_pairs

Status = Literal["none", "match", "mismatch", "absent"]


@dataclass
class NumberMatch:
    """How the passage's numbers relate to the claim's."""

    status: Status
    matched: list[tuple[str, str]] = field(default_factory=list)  # (claim number, passage evidence)
    conflicts: list[tuple[str, list[str]]] = field(default_factory=list)  # (claim number, passage numbers)
    missing: list[str] = field(default_factory=list)
    conflict_kinds: list[str] = field(default_factory=list)

    @property
    def specific(self) -> bool:
        """Whether a conflict is about a named parameter or a count ("batch size", "languages").

        Such a conflict needs less word overlap to count: the two numbers measure the same thing.
        """
        return any(k.startswith(("param:", "count:")) for k in self.conflict_kinds)

    def explain(self) -> str:
        """One line for people: which number differs, or which is missing."""
        if self.conflicts:
            said, there = self.conflicts[0]
            unit = "another unit: " if self.conflict_kinds[:1] == ["unit"] else ""
            return f"{unit}the claim says {said}, the passage {', '.join(there)}"
        if self.missing:
            return f"the passage does not give {', '.join(self.missing)}"
        return ""


def kind(q: Quantity) -> str:
    """What a quantity measures, for deciding whether two differing numbers contradict.

    A relative change in per cent ("21%") and an absolute one in points ("21 points", "21
    percentage points", "21 pp") are different kinds: the same value in the other unit is a
    unit conflict, not a match.
    """
    if q.unit == "%":
        t = q.text.lower()
        return "point" if t.endswith(("pp", "point", "points")) else "%"
    if q.unit == "point":
        return "point"
    if q.unit == "x":
        return "x"
    if q.name:
        return f"param:{q.name}"
    if q.unit:
        return f"count:{q.unit}"
    return "value"


def _agree(c: Quantity, p: Quantity) -> bool:
    # The claim's rounding decides ("30%" states 30.1%); the passage's only when it prints decimals
    # or says "about": "1" is not "0.7", and "two models" is not "three".
    slack = p.tolerance if p.decimals > 0 or p.approximate else 0.0
    if c.agrees(p.value, slack):
        return True
    # A fraction and its percentage: .593 ~ 59.3 %, 0.301 ~ 30.1 %.
    if kind(c) == "%" and kind(p) == "value" and abs(p.value) <= 1:
        return c.agrees(p.value * 100, p.tolerance * 100)
    if kind(p) == "%" and kind(c) == "value" and abs(c.value) <= 1:
        return p.agrees(c.value * 100, c.tolerance * 100)
    return False


def _compatible(c: Quantity, p: Quantity) -> bool:
    """Whether a matching value of ``p`` would stand for ``c`` (same kind, or one of them plain)."""
    kc, kp = kind(c), kind(p)
    if kc == kp:
        return True
    if "value" in (kc, kp):
        return True
    # "3 seeds" (a count) and "seeds: 3" (a parameter) name the same thing.
    return {kc.split(":")[0], kp.split(":")[0]} == {"param", "count"}


def _ratios(passage: str, pqs: list[Quantity]) -> list[tuple[float, float, str]]:
    """Ratios recomputed from the passage's stated pairs ("from 0.2 to 0.4": 2x): (value, tolerance, evidence)."""
    out = []
    for a, b in stated_pairs(passage, pqs):
        big, small = (a, b) if abs(a.value) >= abs(b.value) else (b, a)
        if small.value == 0:
            continue
        ratio = abs(big.value / small.value)
        tol = ratio * (big.tolerance / max(abs(big.value), 1e-12) + small.tolerance / max(abs(small.value), 1e-12))
        out.append((ratio, tol, f"{ratio:.2f}x (recomputed from {a.text} and {b.text})"))
    return out


def _derived(claim: str, passage: str, pqs: list[Quantity]) -> list[tuple[float, float, str]]:
    """Percentages recomputed from the passage's stated pairs: (value, tolerance, evidence)."""
    out = []
    for pct, tol, base, other in recomputed_changes(stated_pairs(passage, pqs), direction(claim)):
        a, b = sorted((base, other), key=lambda q: q.start)  # named in reading order
        out.append((pct, tol, f"{pct:.1f}% (recomputed from {a.text} and {b.text})"))
    return out


def direction_conflict(claim: str, passage: str) -> str | None:
    """The claim says a quantity rose where the passage's "from A to B" fell (or the reverse)."""
    said = verb_direction(claim)
    if not said:
        return None
    for a, b in stated_pairs(passage):
        if (
            not re.search(r"\bfrom\s*$", passage[max(0, a.start - 8) : a.start])
            or not re.fullmatch(r"\s*(?:%|[^\W\d]{1,4}\b)?\s*to\s*", passage[a.end : b.start])
            or a.value == b.value
        ):
            continue
        there = 1 if b.value > a.value else -1
        if there != said:
            went = "rose" if there > 0 else "fell"
            return (
                f"opposite direction: the claim says {'an increase' if said > 0 else 'a decrease'}, "
                f"the passage {went} from {a.text} to {b.text}"
            )
    return None


# Units of measurement after a number, by spelling -> canonical symbol.
_UNITS = {
    "mah/g": "mAh/g",
    "kj/g": "kJ/g",
    "j/g": "J/g",
    "kg": "kg",
    "mg": "mg",
    "µg": "µg",
    "g": "g",
    "km": "km",
    "cm": "cm",
    "mm": "mm",
    "µm": "µm",
    "um": "µm",
    "nm": "nm",
    "m": "m",
    "ms": "ms",
    "s": "s",
    "sec": "s",
    "seconds": "s",
    "second": "s",
    "min": "min",
    "minute": "min",
    "minutes": "min",
    "h": "h",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
    "week": "wk",
    "weeks": "wk",
    "month": "mo",
    "months": "mo",
    "year": "yr",
    "years": "yr",
    "quarter": "quarter",
    "quarters": "quarter",
    "°c": "°C",
    "k": "K",
    "mv": "mV",
    "kv": "kV",
    "v": "V",
    "ma": "mA",
    "a": "A",
    "kw": "kW",
    "w": "W",
    "mω": "mΩ",
    "ω": "Ω",
    "khz": "kHz",
    "mhz": "MHz",
    "ghz": "GHz",
    "hz": "Hz",
    "gb": "GB",
    "mb": "MB",
    "px": "px",
    "pixel": "px",
    "pixels": "px",
    "mmhg": "mmHg",
    "db": "dB",
    "usd": "$",
}
_UNIT_AFTER = re.compile(
    r"(?:\s?[±×x]\s?[\d.]+)?\s?(mAh/g|kJ/g|J/g|mmHg|[kmµu]?[gmsVAWΩ]|[kMG]?Hz|°C|K|dB|GB|MB|px|pixels?|sec|seconds?|min|minutes?|"
    r"h|hours?|days?|weeks?|months?|quarters?|years?|kg|km|cm|mm|nm|ms|mV|kV|mA|kW|mΩ)(?![\w/])"
)
# A table row written out gives a column's unit in its header: "Time per epoch (s): 44.6".
_UNIT_HEADER = re.compile(r"\(([^()]{1,8})\):\s*$")


def physical_unit(text: str, q: Quantity) -> str | None:
    """The unit of measurement printed right after ``q`` ("48 h", "142 mV", "11.2 µm"), canonical, or None."""
    m = _UNIT_AFTER.match(text, q.end)
    if m:
        return _UNITS.get(m.group(1).lower())
    head = _UNIT_HEADER.search(text[max(0, q.start - 12) : q.start])
    return _UNITS.get(head.group(1).strip().lower()) if head else None


def _with_unit(q: Quantity) -> str:
    return f"{q.text} points" if q.unit == "point" else q.text


def _percent_against_unit(c: Quantity, p: Quantity, claim: str, passage: str) -> str | None:
    """A percentage on one side where the other prints a unit of measurement ("14.6 %" / "14.6 mmHg")."""
    if kind(c) == "%" and kind(p) != "%":
        return physical_unit(passage, p)
    if kind(p) == "%" and kind(c) != "%":
        return physical_unit(claim, c)
    return None


def _same_value(c: Quantity, claim: str, passage: str, pqs: list[Quantity]) -> Quantity | None:
    """The passage's quantity that prints ``c``'s value in a compatible kind and the same physical unit."""
    cu = physical_unit(claim, c)
    for p in pqs:
        if not (_compatible(c, p) and _agree(c, p)) or _percent_against_unit(c, p, claim, passage):
            continue
        pu = physical_unit(passage, p) if cu else None
        if cu and pu is not None and pu != cu:
            continue
        return p
    return None


def _direction_clash(c: Quantity, hit: Quantity, claim: str, passage: str) -> tuple[str, list[str]] | None:
    """ "increases ... by 21%" against "a 21% reduction": a matching percentage that changes the other way."""
    if kind(c) != "%":
        return None
    there = direction(passage[max(0, hit.start - 40) : hit.end + 25])
    said = direction(claim)
    if not (said and there and said != there):
        return None
    return (
        f"{'an increase' if said > 0 else 'a decrease'} of {c.text}",
        [f"{'an increase' if there > 0 else 'a decrease'} of {hit.text}"],
    )


def _unit_clash(c: Quantity, claim: str, passage: str, pqs: list[Quantity]) -> tuple[str, list[str]] | None:
    """The same value in another unit: "48 minutes" where the passage says "48 h", "21 points" for "21%"."""
    cu = physical_unit(claim, c)
    for p in pqs:
        if not c.agrees(p.value, p.tolerance):
            continue
        pu = physical_unit(passage, p)
        if cu and pu is not None and pu != cu:
            return (f"{c.text} {cu}", [f"{p.text} {pu}"])
        if _percent_against_unit(c, p, claim, passage):
            return (f"{c.text} {cu or ''}".strip(), [f"{p.text} {pu or ''}".strip()])
    other = next((p for p in pqs if {kind(c), kind(p)} == {"%", "point"} and c.agrees(p.value, p.tolerance)), None)
    return (_with_unit(c), [_with_unit(other)]) if other is not None else None


def _recomputed(c: Quantity, passage: str, pqs: list[Quantity], derived: list[tuple[float, float, str]]) -> list:
    """What the passage's stated pairs give for a percentage (changes) or a multiplier (ratios)."""
    if kind(c) == "%":
        return derived
    if kind(c) == "x":
        return _ratios(passage, pqs)
    return []


def _signed(c: Quantity, claim: str, passage: str, pqs: list[Quantity]) -> Quantity | None:
    """A change given with a sign on one side and a verb on the other: "-3.0 %" is "fell by 3.0 %"."""
    for p in pqs:
        if kind(p) != kind(c) or (c.value < 0) == (p.value < 0) or not c.agrees(-p.value, p.tolerance):
            continue
        signed, worded, text = (c, p, passage) if c.value < 0 else (p, c, claim)
        if direction(text[max(0, worded.start - 30) : worded.end + 5]) == (-1 if signed.value < 0 else 1):
            return p
    return None


# A number stated as a difference: "0.15 above the CRN", "12 ms more than", "a margin of 0.5 points".
_DIFFERENCE = re.compile(
    r"\s*(?:%|[^\W\d]{1,12}\b)?\s*(?:points?\s+)?(?:above|below|more|less|higher|lower|fewer|better|worse|"
    r"larger|smaller|longer|shorter|greater|ahead|behind|apart)\b",
    re.I,
)


def _difference(c: Quantity, claim: str, passage: str, pqs: list[Quantity]) -> str | None:
    """``c`` stated as a difference ("0.15 above") that two of the passage's numbers make, or the
    passage's "12 ms lower than X" that makes ``c`` X's own value (20 + 12): the evidence, else None."""
    if kind(c) in ("%", "x"):
        return None  # two percentages differ by points, not by a relative per cent
    said_difference = _DIFFERENCE.match(claim, c.end) is not None
    for a in pqs:
        for b in pqs:
            if a is b or not (_compatible(c, a) and _compatible(c, b)) or kind(a) != kind(b):
                continue
            tol = a.tolerance + b.tolerance
            if said_difference and a.value > b.value and c.agrees(a.value - b.value, tol):
                return f"{a.value - b.value:g} (recomputed: {a.text} - {b.text})"
            if _DIFFERENCE.match(passage, b.end) and c.agrees(a.value + b.value, tol) and not said_difference:
                return f"{a.value + b.value:g} (recomputed: {a.text} + {b.text})"
    return None


def _definite_count(c: Quantity, claim: str) -> bool:
    """ "the two sites", "the three measurements": a number word after "the" refers to a set, it states nothing."""
    return (
        c.text.isalpha()
        and c.value < 20
        and re.search(r"\bthe\s+$", claim[max(0, c.start - 5) : c.start], re.I) is not None
    )


def _match_one(out: NumberMatch, c: Quantity, claim: str, passage: str, pqs: list[Quantity], derived: list) -> None:
    """Record in ``out`` whether ``c`` is matched, in conflict or missing (module docstring)."""
    hit = _same_value(c, claim, passage, pqs)
    clash = _direction_clash(c, hit, claim, passage) if hit is not None else None
    if clash:
        out.conflicts.append(clash)
        out.conflict_kinds.append("%")
        return
    if hit is not None:
        out.matched.append((c.text, hit.text))
        return
    signed = _signed(c, claim, passage, pqs)
    if signed is not None:
        out.matched.append((c.text, signed.text))
        return
    diff = _difference(c, claim, passage, pqs)
    if diff is not None:
        out.matched.append((c.text, diff))
        return
    options = _recomputed(c, passage, pqs, derived)
    d = next((d for d in options if c.agrees(d[0], d[1])), None)
    if d is not None:
        out.matched.append((c.text, d[2]))
        return
    clash = _unit_clash(c, claim, passage, pqs)
    if clash:
        out.conflicts.append(clash)
        out.conflict_kinds.append("unit")
        return
    same = [p.text for p in pqs if kind(p) == kind(c)] + [d[2] for d in options]
    if not same and _definite_count(c, claim):
        return
    if same:
        out.conflicts.append((c.text, same))
        out.conflict_kinds.append(kind(c))
    else:
        out.missing.append(c.text)


def match_numbers(claim: str, passage: str) -> NumberMatch:
    """Match every number of ``claim`` against ``passage`` (see the module docstring)."""
    cqs = quantities(claim)
    if not cqs:
        return NumberMatch(status="none")
    pqs = quantities(passage)
    derived = _derived(claim, passage, pqs)
    out = NumberMatch(status="match")
    for c in cqs:
        _match_one(out, c, claim, passage, pqs, derived)
    if out.conflicts:
        out.status = "mismatch"
    elif out.missing:
        out.status = "absent"
    return out
