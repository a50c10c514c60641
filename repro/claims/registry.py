"""The claims registry: a YAML file of claims, each linked to the checks that can decide it.

A registry (see claims/hybrid.yaml) names the paper, the experiments whose results its checks
read, the *arms* that comparisons talk about (a named set of grid points of one experiment),
the research question, and the claims. Loading validates everything with pydantic; an error
names the file, the line and the field, and nothing runs until the whole file is valid.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from repro.checks.arms import Arm
from repro.checks.base import ClaimRef, Verdict, check_spec_type, load_check_kinds
from repro.checks.context import CheckContext
from repro.claims.claim_types import ClaimType
from repro.errors import ReproError
from repro.sources.consistency import Finding
from repro.sources.vocabulary import Vocabulary, registry_vocabulary
from repro.yamlfile import line_of, read_yaml

# One entry under ``checks:``: every registered kind, dispatched on its ``kind`` field.
CheckSpec = check_spec_type()


class Source(BaseModel):
    """Where the paper supports a claim."""

    model_config = ConfigDict(extra="forbid")

    arxiv: str | None = None
    section: str | None = None
    page: int | None = Field(default=None, ge=1)
    quote: str | None = None


class Synthesis(BaseModel):
    """What the literature synthesis that produced the claim said about it."""

    model_config = ConfigDict(extra="forbid")

    verified: bool
    confidence: float = Field(ge=0.0, le=1.0)


class Reported(BaseModel):
    """One number the paper reports for a claim, e.g. XLM-R hybrid multilingual mAP on XQuAD-R."""

    model_config = ConfigDict(extra="forbid")

    what: str
    value: float
    backbone: str | None = None
    arm: str | None = None
    task: str | None = None
    metric: str | None = None
    lang: str | None = None
    where: str | None = Field(default=None, description="table or section of the paper")


class Claim(BaseModel):
    """One claim and the evidence that can decide it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    text: str = Field(min_length=1)
    status: Literal["confirmed", "draft"] = "confirmed"
    type: ClaimType | None = Field(default=None, description="result, comparison, setup, data, protocol or scope")
    values: dict[str, Any] = Field(default_factory=dict, description="values a setup or data claim states")
    source: Source = Field(default_factory=Source)
    synthesis: Synthesis | None = None
    evidence: list[Literal["text", "data", "experiment"]] = Field(default_factory=list)
    reported: list[Reported] = Field(default_factory=list)
    expect: Verdict | None = Field(default=None, description="for --strict: the verdict this claim must get")
    note: str = ""
    checks: list[CheckSpec] = Field(default_factory=list)

    def ref(self) -> ClaimRef:
        """What a check is told about the claim it runs for."""
        return ClaimRef(
            id=self.id, text=self.text, arxiv=self.source.arxiv, section=self.source.section, page=self.source.page
        )


class ResearchQuestion(BaseModel):
    """The question a registry answers by experiment rather than a claim it verifies."""

    model_config = ConfigDict(extra="forbid")

    id: str = "RQ"
    text: str
    source: str = ""
    checks: list[CheckSpec] = Field(default_factory=list)

    def ref(self) -> ClaimRef:
        """What a check is told about the question it runs for."""
        return ClaimRef(id=self.id, text=self.text)


class Paper(BaseModel):
    """The paper a registry is about; ``mirror`` is its text's file name in a local papers mirror."""

    model_config = ConfigDict(extra="forbid")

    arxiv: str | None = None
    title: str = ""
    authors: list[str] = Field(default_factory=list)
    mirror: str | None = None
    settings: dict[str, str] = Field(
        default_factory=dict,
        description="the paper's training and evaluation settings by our config key (train.batch_size, "
        "eval.limit, grid.seed...), which the report sets beside ours",
    )


class Registry(BaseModel):
    """A whole registry file."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    paper: Paper = Field(default_factory=Paper)
    experiments: dict[str, str] = Field(default_factory=dict, description="name -> experiment YAML (repo-relative)")
    arms: dict[str, Arm] = Field(default_factory=dict)
    research_question: ResearchQuestion | None = None
    findings: list[Finding] = Field(default_factory=list, description="what drafting found inconsistent in the paper")
    vocabulary: dict[str, Any] | str | None = Field(
        default=None,
        description="the paper's methods, arms and aliases (categories as in repro/sources/vocabulary.yaml), "
        "or the path of such a file; laid over the shared vocabulary",
    )
    claims: list[Claim] = Field(default_factory=list)

    @field_validator("claims")
    @classmethod
    def _unique_ids(cls, claims: list[Claim]) -> list[Claim]:
        seen: set[str] = set()
        for c in claims:
            if c.id in seen:
                raise ValueError(f"claim id {c.id} appears twice")
            seen.add(c.id)
        return claims

    def claim(self, claim_id: str) -> Claim:
        """The claim with ``claim_id`` (a ReproError naming the known ids otherwise)."""
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise ReproError(f"no claim {claim_id}; known: {', '.join(c.id for c in self.claims)}")

    def vocab(self, path: Path) -> Vocabulary:
        """The registry's vocabulary laid over the shared one (``path``: this registry's file)."""
        return registry_vocabulary(self.vocabulary, Path(path).parent)

    def experiment_paths(self, path: Path) -> dict[str, Path]:
        """Experiment name -> its YAML file; ``path`` is this registry's file, relative entries start at its folder."""
        base = Path(path).parent
        return {
            name: rel if (rel := Path(p)).is_absolute() else (base / rel).resolve()
            for name, p in self.experiments.items()
        }

    def check_context(
        self,
        path: Path,
        profile: str,
        results_root: Path = Path("results"),
        papers_dirs: list[Path] | None = None,
        progress: bool = True,
    ) -> CheckContext:
        """The context its checks run in (``path`` is this registry's file: relative paths start at its folder)."""
        ctx = CheckContext(
            profile=profile,
            experiments=self.experiment_paths(path),
            arms=dict(self.arms),
            base_dir=Path(path).parent,
            paper_mirror=self.paper.mirror,
            paper_arxiv=self.paper.arxiv,
            results_root=Path(results_root),
            progress=progress,
            vocabulary=self.vocab(path),
        )
        if papers_dirs is not None:
            ctx.papers_dirs = list(papers_dirs)
        return ctx


def _field_path(loc: tuple[Any, ...]) -> str:
    """``claims[0].checks[1].metric`` for pydantic's location ``('claims', 0, 'checks', 1, 'metric')``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _without_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """``loc`` without the kind name pydantic inserts after a check's index (the union member that failed)."""
    kinds = load_check_kinds()
    return tuple(
        part
        for i, part in enumerate(loc)
        if not (i >= 2 and loc[i - 2] == "checks" and isinstance(loc[i - 1], int) and part in kinds)
    )


def _message(err: dict[str, Any]) -> tuple[tuple[Any, ...], str]:
    """Where (pydantic's ``loc``, tags removed) and what, for one validation error; unknown kinds get a hint."""
    loc = _without_tags(tuple(err["loc"]))
    kinds = sorted(load_check_kinds())
    if err["type"] == "union_tag_invalid":
        tag = str(err["ctx"]["tag"])
        close = difflib.get_close_matches(tag, kinds, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return loc + ("kind",), f"unknown check kind '{tag}'{hint}; known: {', '.join(kinds)}"
    if err["type"] == "union_tag_not_found":
        return loc, f"a check needs a `kind`: one of {', '.join(kinds)}"
    if err["type"] == "model_attributes_type" and len(loc) >= 2 and loc[-2] == "checks":
        return loc, f"a check must be a mapping with a `kind` (one of {', '.join(kinds)})"
    return loc, err["msg"].removeprefix("Value error, ")


def load_registry(path: Path) -> Registry:
    """Read and validate a registry file; every problem is a ReproError naming file, line and field."""
    path = Path(path)
    if not path.is_file():
        raise ReproError(f"claims registry {path} not found")
    raw, node = read_yaml(path)
    if not isinstance(raw, dict):
        raise ReproError(f"{path}:1: a registry must be a mapping with name and claims")
    try:
        registry = Registry.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        loc, msg = _message(errors[0])
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ReproError(f"{path}:{line_of(node, loc)}: {_field_path(loc) or '(top level)'}: {msg}{more}") from None
    try:
        registry.vocab(path)
    except ReproError as exc:
        raise ReproError(f"{path}:{line_of(node, ('vocabulary',))}: {exc}") from None
    return registry
