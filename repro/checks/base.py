"""What every check kind shares: its spec (a pydantic model), its result, and the kind registry.

A check kind is one module in ``repro/checks/`` holding one class decorated with
:func:`register`. The class is the YAML spec of the check (its fields are what a registry file
writes under ``checks:``) and its :meth:`Check.run` turns evidence into a :class:`CheckResult`.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

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


class CheckResult(BaseModel):
    """What one check found.

    ``headline`` is the one number-bearing sentence that decided the verdict; ``confidence`` is the
    toolkit's probability that the claimed statement holds given this evidence (None when the
    check does not produce one, e.g. a data fact that is simply true or false).
    """

    kind: str
    label: str
    verdict: Verdict
    confidence: float | None = None
    headline: str
    details: dict[str, Any] = Field(default_factory=dict)
    tables: list[Table] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
    seconds: float = 0.0


class Check(BaseModel):
    """Base class of check specs. Subclasses set ``kind`` and implement :meth:`run`."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    label: str = ""

    name: ClassVar[str] = ""

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


def register(cls: type[Check]) -> type[Check]:
    """Class decorator: make ``cls`` available under ``cls.name`` in registry files."""
    if not cls.name:
        raise TypeError(f"{cls.__name__} needs a `name`")
    CHECKS[cls.name] = cls
    return cls


def load_check_kinds() -> dict[str, type[Check]]:
    """Import every module of this package so that each registers its kind; return the registry."""
    import repro.checks as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name != "base":
            importlib.import_module(f"repro.checks.{mod.name}")
    return CHECKS
