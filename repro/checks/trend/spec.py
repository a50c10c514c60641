"""The trend check's settings: its registry fields, their validation and the typed fields of what it is about."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

from pydantic import Field

from repro.checks.base import Check, CheckResult, Verdict
from repro.checks.context import CheckContext
from repro.checks.measurements import parse_metric
from repro.checks.trend.result import TrendResult, close
from repro.errors import ReproError


class TrendSpec(Check):
    """The trend check's registry fields and what they say (the analysis and presentation read only these)."""

    kind: Literal["trend"] = "trend"
    result_type: ClassVar[type[CheckResult]] = TrendResult
    experiment: str
    task: str
    metric: str
    x: str = Field(description="the grid axis the metric moves along")
    reference: float = Field(description="the grid value gains are measured against")
    at: float = Field(description="the grid value a hypothesis is tested at")
    hypothesis: str | None = Field(default=None, description="a registered rule (HYPOTHESES) that gives the verdict")
    groups: dict[str, list[str]] = Field(
        default_factory=dict, description="further named groups of rows (languages, classes...) whose gains are tested"
    )
    group: str | None = Field(default=None, description="the group a hypothesis such as `gains` is about")
    resource_classes: bool = Field(
        default=True,
        description="also group the rows (languages) by Joshi resource class; false for rows that are not languages",
    )
    unseen: list[str] = Field(default_factory=list, description="languages the training corpus held out")
    seen: list[str] | None = Field(
        default=None, description="languages the training corpus has; when given, every other language is unseen"
    )
    units: Literal["seen", "all"] = Field(
        default="seen",
        description="whose gains answer the question with languages as units: the seen languages, or all",
    )
    margin: float | None = Field(
        default=None,
        gt=0,
        description="equivalence margin for 'no difference' on the metric's scale (low - high gain), stated "
        "before looking (docs/statistics.md)",
    )
    margin_logit: float | None = Field(default=None, gt=0, description="the same on the logit scale")
    n_boot: int = Field(default=2000, ge=200)
    seed: int = 0

    def describe(self) -> str:
        return self.label or f"{self.task} {self.metric} vs {self.x}, by language group"

    def experiments(self, ctx: CheckContext) -> list[str]:
        return [self.experiment]

    def validate_in(self, ctx: CheckContext) -> list[str]:
        try:
            metric = parse_metric(self.task, self.metric)
            exp = ctx.experiment(self.experiment)
        except ReproError as exc:
            return [str(exc)]
        if self.x not in exp.grid:
            return [f"experiment {exp.name} has no grid key '{self.x}' (it has {', '.join(exp.grid)})"]
        values = exp.grid[self.x]
        problems = [
            f"{self.x} = {v} is not in the grid of {exp.name} ({values})"
            for v in (self.reference, self.at)
            if not any(close(v, g) for g in values)
        ]
        if not metric.per_query:
            problems.append(f"trend needs per-query values; '{self.metric}' has none")
        if metric.task not in exp.eval.tasks:
            problems.append(f"experiment {exp.name} does not evaluate {metric.task}")
        if close(self.reference, self.at):
            problems.append(f"at and reference are both {self.x}={self.at}: a gain needs two grid values")
        if self.seen is not None and (both := sorted(set(self.seen) & set(self.unseen))):
            problems.append(f"languages listed as both seen and unseen: {', '.join(both)}")
        if clash := sorted(set(self.groups) & {"low", "high", "unseen", "low - high"}):
            problems.append(f"group name {clash[0]} is taken by the resource-class groups; name it otherwise")
        if self.group is not None and self.group not in {*self.groups, "low", "high", "unseen"}:
            problems.append(
                f"group '{self.group}' is not defined (groups: {', '.join([*self.groups, 'low', 'high', 'unseen'])})"
            )
        # A profile that evaluates the task on the base model only is not an error: the check says
        # "not checked" for that profile (run() names why).
        return problems

    def is_unseen(self, lang: str) -> bool:
        return lang in self.unseen or (self.seen is not None and lang not in self.seen)

    def classes(self) -> tuple[Callable[[str], int | None], Callable[[str], str]]:
        """``(resource_class, resource_group)`` of a row: Joshi's for languages; none for rows that are not."""
        from repro.data.resource_classes import resource_class, resource_group

        if self.resource_classes:
            return resource_class, resource_group
        # Rows that are not languages (a user program's groups): only the registry's groups count.
        return (lambda row: None), (lambda row: "-")

    def not_checked(self, why: str, missing: list[str]) -> TrendResult:
        return TrendResult(
            verdict=Verdict.NOT_CHECKED,
            headline=f"{self.task} {self.metric}: not checked in this profile: {why}",
            details={"missing": missing},
            finding="undetermined",
            finding_reason=why,
            units=self.units,
            missing=missing,
            **self.where(parse_metric(self.task, self.metric).lower_is_better, self.at, self.reference),
        )

    def where(self, lower_is_better: bool, at: float, ref: float) -> dict[str, Any]:
        """The typed fields that say what a result is about (the report reads them)."""
        return {
            "task": self.task,
            "metric": self.metric,
            "lower_is_better": lower_is_better,
            "x": self.x,
            "at": at,
            "reference": ref,
        }
