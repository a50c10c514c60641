"""The output of ``repro verify``: one verdict per claim, the research question's answer, provenance.

A verdicts file (``results/claims/<registry>/<profile>/verdicts.json``) is everything a report
needs: the verdicts with their evidence, and what the report shows beside them (the registry's
arms, findings and paper settings, each experiment's sweep summary and sample mode, the class
table's state). A report reads nothing else and never re-runs checks.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, SerializeAsAny

from repro.atomic import atomic_write_text
from repro.checks.arms import Arm
from repro.checks.base import CheckResult, Part, Verdict, load_check_kinds, typed_result
from repro.claims.registry import Paper, Reported, Source, Synthesis
from repro.errors import ReproError, first_line
from repro.integrity import append_seal, check_record, read_json
from repro.sources.consistency import Finding


@functools.cache
def _kinds_loaded() -> bool:
    # Once per process: scanning the package for check kinds per claim cost 18 s on 10,000 claims.
    load_check_kinds()
    return True


def _typed_results(values: list[object]) -> list[object]:
    """Stored results back as their kind's result class (a trend result keeps its typed answer)."""
    _kinds_loaded()
    return [typed_result(v) for v in values or []]


# Check results as stored: each read back as its kind's class, each written with its own fields.
CheckResults = Annotated[list[SerializeAsAny[CheckResult]], BeforeValidator(_typed_results)]


class ClaimVerdict(BaseModel):
    """A claim with the verdict its checks gave it."""

    id: str
    text: str
    status: str = "confirmed"
    source: Source = Field(default_factory=Source)
    synthesis: Synthesis | None = None
    evidence: list[str] = Field(default_factory=list)
    reported: list[Reported] = Field(default_factory=list)
    expect: Verdict | None = None
    verdict: Verdict
    confidence: float | None = Field(
        default=None, description="the deciding part's calibrated probability (text support), else None"
    )
    decided_by: str = Field(description="what failed, held and stayed open, and the headline that decided")
    note: str = Field(default="", description="the registry's note on how the claim was read")
    parts: list[Part] = Field(default_factory=list, description="every decidable part with its outcome")
    decisive: Part | None = Field(default=None, description="the part whose number the verdict rests on")
    checks: CheckResults = Field(default_factory=list)


class QuestionAnswer(BaseModel):
    """The research question, its answer in words and the checks behind it."""

    id: str
    text: str
    answer: str = Field(description="the answer in two sentences")
    detail: str = Field(default="", description="every check's answer with its numbers")
    checks: CheckResults = Field(default_factory=list)
    classes: list[tuple[str, str]] = Field(
        default_factory=list, description="the state of the Joshi class table the groups come from (what, state)"
    )


class ExperimentRecord(BaseModel):
    """What a verify run used of one experiment."""

    name: str
    path: str
    profile: str
    results_dir: str
    summary: dict[str, Any] = Field(default_factory=dict, description="the sweep summary (rows, grid, train)")
    computed_steps: int = 0
    cached_steps: int = 0
    seconds: float = 0.0
    key_mismatch: str | None = Field(
        default=None, description="published steps used under other keys than the verifying machine's, and why"
    )
    sample: str | None = Field(default=None, description="how the profile draws limited items (random, first)")


class VerdictsFile(BaseModel):
    """Everything ``repro verify`` decided, with provenance."""

    registry: str
    registry_path: str
    profile: str
    paper: Paper = Field(default_factory=Paper)
    created: str
    claims: list[ClaimVerdict]
    research_question: QuestionAnswer | None = None
    experiments: list[ExperimentRecord] = Field(default_factory=list)
    arms: dict[str, Arm] = Field(default_factory=dict, description="the registry's arms: which models each names")
    findings: list[Finding] = Field(default_factory=list, description="the registry's findings about its paper")
    provenance: dict[str, Any] = Field(default_factory=dict)
    seconds: float = 0.0

    def save(self, path: Path) -> Path:
        """Write atomically as indented JSON, sealed (:mod:`repro.integrity`)."""
        atomic_write_text(Path(path), append_seal(self.model_dump_json(indent=1) + "\n"))
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> VerdictsFile:
        """Read a verdicts file; a missing or malformed one is a one-line ReproError."""
        path = Path(path)
        if not path.is_file():
            raise ReproError(f"no verdicts at {path}; run `repro verify` first")
        try:
            raw = read_json(path)
        except ReproError as exc:
            raise ReproError(f"{path}: not a verdicts file ({str(exc).removeprefix(f'{path}: ')})") from None
        if isinstance(raw, dict) and (problems := check_record(raw, path)):
            raise ReproError(
                f"{problems[0]}; restore the committed file (git checkout -- {path}) or write it again: "
                f"repro verify {raw.get('registry_path', '<registry.yaml>')} --profile {raw.get('profile', '<profile>')}"
            )
        try:
            return cls.model_validate(raw)
        except (ValueError, TypeError) as exc:
            raise ReproError(f"{path}: not a verdicts file ({first_line(exc)})") from None


def verdicts_path(results_root: Path, registry: str, profile: str) -> Path:
    """Where ``repro verify`` writes the verdicts of ``registry`` at ``profile``."""
    return Path(results_root) / "claims" / registry / profile / "verdicts.json"
