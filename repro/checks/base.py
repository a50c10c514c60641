"""What every check kind shares: its spec (a pydantic model), its result, and the kind registry.

A check kind is one module in ``repro/checks/`` holding one class decorated with :func:`register`.
The class is the YAML spec of the check (its fields are what a registry file writes under
``checks:``, its ``kind`` a ``Literal`` naming it) and its :meth:`Check.run` turns evidence into a
:class:`CheckResult`, or into a subclass of it when other code reads typed fields of the result
(the trend kind's answer to the research question). ``run`` fills in what it found; the verify
loop stamps what every result shares (kind, label, seconds).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Union, get_args

from pydantic import BaseModel, ConfigDict, Field

from repro.errors import ReproError

if TYPE_CHECKING:
    from repro.checks.context import CheckContext


class Verdict(str, Enum):
    """A verdict, for one check or for a whole claim."""

    REPRODUCED = "reproduced"
    PARTIAL = "partially reproduced"
    NOT_REPRODUCED = "not reproduced"
    INCONCLUSIVE = "inconclusive"
    NOT_CHECKED = "not checked"
    ERROR = "error"


@dataclass(frozen=True)
class ClaimRef:
    """The claim (or research question) a check runs for, as the verify loop hands it over."""

    id: str
    text: str
    arxiv: str | None = None
    section: str | None = None
    page: int | None = None


class Table(BaseModel):
    """A small table of evidence, rendered as-is in reports."""

    title: str
    columns: list[str]
    rows: list[list[Any]]


class Figure(BaseModel):
    """Data for a plot; the report draws it (so checks stay free of matplotlib).

    ``kind`` is ``"lines"`` (one line per series over ``x``) or ``"bars"`` (one bar per label).
    """

    title: str
    kind: str = "lines"
    x_label: str = ""
    y_label: str = ""
    x: list[Any] = Field(default_factory=list)
    series: dict[str, list[float | None]] = Field(default_factory=dict)
    note: str = ""


class Part(BaseModel):
    """One decidable part of a claim: a test of one arm, one check, with its outcome and deciding number.

    ``number`` is the decisive quantity in words (an effect's interval and Holm-adjusted p, a text
    check's calibrated support); ``estimate``, ``low``, ``high`` and ``p_adjusted`` are its numbers
    when it is a statistical test.
    """

    name: str
    verdict: Verdict
    number: str = ""
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    p_adjusted: float | None = None
    family_size: int | None = None


class CheckResult(BaseModel):
    """What one check found.

    ``headline`` is the one number-bearing sentence that decided the verdict; ``confidence`` is a
    calibrated probability where the check has one (the text check's support score, fitted and
    checked for calibration on labelled passages); statistical checks leave it None and report
    their decisive quantity instead (:meth:`parts`: interval and adjusted p). ``details`` is
    evidence for people (shown as JSON in reports); code never reads it back. ``kind``, ``label``
    and ``seconds`` are stamped by the verify loop. ``refutes``: the evidence contradicts the claim
    as stated (e.g. the paper's own text says otherwise), so the claim is not reproduced whatever
    its other checks say.
    """

    kind: str = ""
    label: str = ""
    verdict: Verdict
    confidence: float | None = None
    headline: str
    details: dict[str, Any] = Field(default_factory=dict)
    tables: list[Table] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
    seconds: float = 0.0
    refutes: bool = False

    def parts(self) -> list[Part]:
        """The parts of the claim this check decides; by default the check itself is one part."""
        number = f"support {self.confidence:.2f}" if self.confidence is not None else ""
        return [Part(name=self.label or self.kind, verdict=self.verdict, number=number)]


class Check(BaseModel):
    """Base class of check specs. Subclasses declare ``kind: Literal["<name>"]`` and implement :meth:`run`."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    label: str = ""

    # The result class run() returns; a kind whose results carry typed fields sets its own.
    result_type: ClassVar[type[CheckResult]] = CheckResult

    def experiments(self, ctx: CheckContext) -> list[str]:
        """Names of the registry's experiments this check reads (they are run before it)."""
        return []

    def validate_in(self, ctx: CheckContext) -> list[str]:
        """Problems that make this check impossible (unknown arm, metric no experiment produces...).

        Called for every check before anything runs; each string is one error message.
        """
        return []

    def run(self, ctx: CheckContext, claim: ClaimRef) -> CheckResult:  # pragma: no cover - abstract
        """Decide this check for ``claim`` from the evidence ``ctx`` gives access to."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short human label for tables."""
        return self.label or self.kind


CHECKS: dict[str, type[Check]] = {}


def kind_of(cls: type[Check]) -> str:
    """The name a registry file uses for ``cls``: the single value of its ``kind: Literal[...]`` field."""
    values = get_args(cls.model_fields["kind"].annotation)
    if len(values) != 1 or not isinstance(values[0], str):
        raise TypeError(f'{cls.__name__} needs a field `kind: Literal["<name>"]`')
    return values[0]


def register(cls: type[Check]) -> type[Check]:
    """Class decorator: make ``cls`` available under its ``kind`` in registry files."""
    if not (isinstance(cls, type) and issubclass(cls, Check)):
        raise ReproError(f"check kind plug-in {cls!r} is not a subclass of repro.checks.base.Check")
    CHECKS[kind_of(cls)] = cls
    return cls


def register_kind(name: str, cls: Any, owner: str) -> None:
    """Register a check kind a plug-in names (an entry point, or ``module:Class`` in a registry file)."""
    if not (isinstance(cls, type) and issubclass(cls, Check)):
        raise ReproError(f"check kind {name} ({owner}) is not a subclass of repro.checks.base.Check")
    try:
        kind = kind_of(cls)
    except TypeError as exc:
        raise ReproError(f"check kind {name} ({owner}): {exc}") from None
    if kind != name:
        raise ReproError(f'check kind {name} ({owner}): its class declares kind "{kind}"; register it under that name')
    if CHECKS.get(kind, cls) is not cls:
        raise ReproError(f"check kind {name} ({owner}) is registered twice, by {CHECKS[kind].__module__} too")
    CHECKS[kind] = cls


def load_check_kinds() -> dict[str, type[Check]]:
    """Every check kind: the entry points of group ``repro.checks`` (the built-ins are in repro's own
    pyproject.toml, a plug-in package's in its own) and every module of this package, so that a kind
    added as a module with ``@register`` counts before its entry point line is written.

    Subpackages (``stats``, ``text_support``: machinery the kinds use) are imported as packages only;
    no module inside them registers a kind.
    """
    import repro.checks as pkg
    from repro.plugins import entry_points

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name != "base":
            importlib.import_module(f"repro.checks.{mod.name}")
    for name, cls in entry_points("checks").items():
        register_kind(name, cls, f"entry point {name}")
    return CHECKS


def check_spec_type() -> Any:
    """The type of one entry under ``checks:``: a union of every registered kind, told apart by ``kind``."""
    kinds = tuple(load_check_kinds()[k] for k in sorted(load_check_kinds()))
    if len(kinds) == 1:
        return kinds[0]
    return Annotated[Union[kinds], Field(discriminator="kind")]  # noqa: UP007 - a runtime-built union


def typed_result(value: Any) -> Any:
    """A stored check result (a dict from verdicts.json) as the result class of its kind."""
    if isinstance(value, dict):
        cls = CHECKS.get(str(value.get("kind", "")))
        return (cls.result_type if cls else CheckResult).model_validate(value)
    return value
