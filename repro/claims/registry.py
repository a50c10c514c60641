"""The claims registry: a YAML file of claims, each linked to the checks that can decide it.

A registry (see claims/hybrid.yaml) names the paper, the experiments whose results its checks
read, the *arms* that comparisons talk about (a named set of grid points of one experiment),
the research question, and the claims. Loading validates everything with pydantic; an error
names the file, the line and the field, and nothing runs until the whole file is valid.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from repro.checks.arms import Arm
from repro.checks.base import ClaimRef, Verdict, check_spec_type, load_check_kinds
from repro.checks.context import CheckContext
from repro.claims.claim_types import ClaimType
from repro.errors import ReproError
from repro.names import inside, repository_root, slug_problem
from repro.sources.consistency import Finding
from repro.sources.vocabulary import Vocabulary, registry_vocabulary
from repro.yamlfile import line_of, read_yaml, size_limit

# Limits that keep a registry something a person wrote: a larger file or a longer claim text is
# refused with an error naming the limit (an environment variable raises the first).
MAX_REGISTRY_MB = 8
REGISTRY_MB_ENV = "REPRO_MAX_REGISTRY_MB"
MAX_CLAIM_TEXT = 2000

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
    paper_numbers: list[Reported] = Field(
        default_factory=list,
        description="numbers the paper reports for this claim, shown beside ours (not the check kind `reported`)",
    )
    expect: Verdict | None = Field(default=None, description="for --strict: the verdict this claim must get")
    note: str = ""
    checks: list[CheckSpec] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _old_reported_key(cls, data: Any) -> Any:
        # `reported:` was this field's name until it was told apart from the check kind `reported`.
        if isinstance(data, dict) and "reported" in data and "paper_numbers" not in data:
            data = {("paper_numbers" if k == "reported" else k): v for k, v in data.items()}
            print(
                f"warning: claim {data.get('id', '?')}: `reported:` is deprecated; name it `paper_numbers:`",
                file=sys.stderr,
            )
        return data

    @property
    def reported(self) -> list[Reported]:
        """The paper's numbers under their old name (kept for callers written before ``paper_numbers``)."""
        return self.paper_numbers

    @field_validator("text")
    @classmethod
    def _text_size(cls, text: str) -> str:
        if len(text) > MAX_CLAIM_TEXT:
            raise ValueError(
                f"claim text of {len(text):,} characters, over the limit of {MAX_CLAIM_TEXT:,} (MAX_CLAIM_TEXT): "
                "a claim is a sentence or two; put longer material in `note` or `source.quote`"
            )
        return text

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
    plugins: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="kind (checks, hypotheses, tasks, encoders) -> name -> module:attribute, loaded before validation",
    )
    research_question: ResearchQuestion | None = None
    findings: list[Finding] = Field(default_factory=list, description="what drafting found inconsistent in the paper")
    vocabulary: dict[str, Any] | str | None = Field(
        default=None,
        description="the paper's methods, arms and aliases (categories as in repro/sources/vocabulary.yaml), "
        "or the path of such a file; laid over the shared vocabulary",
    )
    claims: list[Claim] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _slug_name(cls, name: str) -> str:
        if problem := slug_problem(name, "registry name"):
            raise ValueError(problem)
        return name

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

    def experiment_paths(self, path: Path, allow_outside: bool = False) -> dict[str, Path]:
        """Experiment name -> its YAML file; ``path`` is this registry's file, relative entries start at its folder.

        Every file must lie inside the registry's repository (:func:`repro.names.repository_root`)
        unless ``allow_outside``: a ReproError names the entry otherwise.
        """
        base = Path(path).parent
        out = {
            name: rel if (rel := Path(p)).is_absolute() else (base / rel).resolve()
            for name, p in self.experiments.items()
        }
        if not allow_outside:
            root = repository_root(path)
            for name, target in out.items():
                if not inside(target, root):
                    raise ReproError(
                        f"{path}: experiments.{name}: {self.experiments[name]} is outside the registry's repository "
                        f"({root}); move it inside, or pass --allow-outside to use it"
                    )
        return out

    def check_context(
        self,
        path: Path,
        profile: str,
        results_root: Path = Path("results"),
        papers_dirs: list[Path] | None = None,
        progress: bool = True,
        allow_outside: bool = False,
    ) -> CheckContext:
        """The context its checks run in (``path`` is this registry's file: relative paths start at its folder)."""
        ctx = CheckContext(
            profile=profile,
            experiments=self.experiment_paths(path, allow_outside),
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


PLUGIN_KINDS = ("checks", "hypotheses", "tasks", "encoders")
# The check kinds the models' ``checks:`` union was built with.
_BUILT_WITH = set(load_check_kinds())


def refresh_check_kinds() -> None:
    """Rebuild the ``checks:`` union after plug-ins registered kinds, so registry files can use them."""
    global CheckSpec
    kinds = load_check_kinds()
    if set(kinds) == _BUILT_WITH:
        return
    CheckSpec = check_spec_type()
    for model in (Claim, ResearchQuestion):
        model.model_fields["checks"].annotation = list[CheckSpec]
        model.model_rebuild(force=True)
    Registry.model_rebuild(force=True)
    _BUILT_WITH.clear()
    _BUILT_WITH.update(kinds)


def load_plugins(plugins: Any, path: Path, node: Any) -> None:
    """Import and register the plug-ins a registry's ``plugins:`` names (before the file is validated)."""
    from repro.checks.base import register_kind
    from repro.checks.trend import register_hypothesis
    from repro.plugins import did_you_mean, load_object

    where = f"{path}:{line_of(node, ('plugins',))}: plugins"
    if not isinstance(plugins, dict) or not all(isinstance(v, dict) for v in plugins.values()):
        raise ReproError(f"{where}: a mapping kind -> name -> module:attribute (kinds: {', '.join(PLUGIN_KINDS)})")
    for kind, entries in plugins.items():
        if kind not in PLUGIN_KINDS:
            raise ReproError(
                f"{where}: unknown plug-in kind '{kind}'{did_you_mean(kind, PLUGIN_KINDS)}; known: {', '.join(PLUGIN_KINDS)}"
            )
        for name, target in entries.items():
            if kind == "checks":
                register_kind(str(name), load_object(str(target), f"{where}.checks.{name}"), str(target))
            elif kind == "hypotheses":
                register_hypothesis(str(name), load_object(str(target), f"{where}.hypotheses.{name}"))
            else:
                from repro.runner.plugins import load_plugins as load_runner_plugins

                load_runner_plugins({kind: {str(name): str(target)}}, where)
    refresh_check_kinds()


def load_registry(path: Path) -> Registry:
    """Read and validate a registry file; every problem is a ReproError naming file, line and field.

    Plug-ins it names (``plugins:``) are loaded first, so their check kinds validate like built-in ones.
    """
    path = Path(path)
    if not path.is_file():
        raise ReproError(f"claims registry {path} not found")
    raw, node = read_yaml(path, size_limit(REGISTRY_MB_ENV, MAX_REGISTRY_MB), REGISTRY_MB_ENV)
    if not isinstance(raw, dict):
        raise ReproError(f"{path}:1: a registry must be a mapping with name and claims")
    if raw.get("plugins"):
        load_plugins(raw["plugins"], path, node)
    else:
        refresh_check_kinds()
    try:
        registry = Registry.model_validate(raw)
    except ValidationError as exc:
        # Every problem at once, each with its line: a user fixes the file in one pass.
        found = []
        for err in exc.errors():
            loc, msg = _message(err)
            found.append(f"{path}:{line_of(node, loc)}: {_field_path(loc) or '(top level)'}: {msg}")
        raise ReproError("; ".join(dict.fromkeys(found))) from None
    try:
        registry.vocab(path)
    except ReproError as exc:
        raise ReproError(f"{path}:{line_of(node, ('vocabulary',))}: {exc}") from None
    return registry
