"""``repro verify``: resolve the experiments a registry's checks need, run what is missing, decide.

The order is strict so that nothing runs on a broken registry: load and validate the file, build
every check's context and collect every problem (unknown arm, metric no experiment produces...),
then run the experiments through the runner (its cache makes finished ones free), then the checks.
A check that raises is recorded as an error verdict, the others still run; the caller turns errors
into a non-zero exit.
"""

from __future__ import annotations

import datetime as _dt
import re
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from repro.checks.base import Check, CheckResult, ClaimRef, Part, Verdict
from repro.checks.context import CheckContext
from repro.checks.question import adjust_question, two_sentences
from repro.checks.resource_table import resource_table_state
from repro.checks.tested import adjust_family, combine
from repro.checks.trend import TrendResult
from repro.claims.registry import Claim, Registry, ResearchQuestion, load_registry
from repro.claims.verdicts import ClaimVerdict, ExperimentRecord, QuestionAnswer, VerdictsFile, verdicts_path
from repro.errors import ReproError, first_line
from repro.evaluation.result import TaskResult
from repro.integrity import read_json
from repro.provenance import provenance

if TYPE_CHECKING:
    from repro.runner.experiment import Experiment


def claim_parts(results: list[CheckResult]) -> list[Part]:
    """Every part the claim's checks decide: one per test of a statistical check, one per other check."""
    return [p for r in results for p in r.parts()]


def claim_verdict(results: list[CheckResult]) -> tuple[Verdict, float | None, str]:
    """Combine a claim's check results into (verdict, confidence, the sentence that decided it).

    The rules (docs/statistics.md, "From parts to a verdict"), over the claim's parts (each test of
    a statistical check, each other check): an error anywhere -> error; a check that refutes the
    claim's wording (its source says otherwise) or any decided contradiction -> not reproduced,
    whatever held; every part decided and held -> reproduced; some held and others undecided or
    not measured -> partially reproduced; nothing decided -> inconclusive if any part was looked
    at, not checked otherwise. The sentence names what failed and what held. ``confidence`` is the
    deciding part's calibrated probability where it has one (a text check's support), else None:
    statistical parts report their interval and adjusted p instead (:func:`decisive_part`).
    """
    if not results:
        return Verdict.NOT_CHECKED, None, "no checks"
    errors = [r for r in results if r.verdict == Verdict.ERROR]
    if errors:
        return Verdict.ERROR, None, errors[0].headline
    parts = claim_parts(results)
    verdict = combine([p.verdict for p in parts])
    refuting = [r for r in results if r.refutes and r.verdict == Verdict.NOT_REPRODUCED]
    if refuting:
        verdict = Verdict.NOT_REPRODUCED
    decider = _decider(results, verdict)
    conf = decider.confidence if decider is not None and decider.confidence is not None else None
    text = decider.headline if decider is not None else results[0].headline
    if verdict in (Verdict.NOT_REPRODUCED, Verdict.PARTIAL):
        failed = [p.name for p in parts if p.verdict == Verdict.NOT_REPRODUCED]
        held = [p.name for p in parts if p.verdict == Verdict.REPRODUCED]
        open_ = [p.name for p in parts if p.verdict in (Verdict.INCONCLUSIVE, Verdict.NOT_CHECKED, Verdict.PARTIAL)]
        summary = "; ".join(
            f"{what}: {', '.join(names)}"
            for what, names in (("failed", failed), ("held", held), ("undecided", open_))
            if names
        )
        text = f"{summary}. {text}"
    return verdict, conf, text


def _decider(results: list[CheckResult], verdict: Verdict) -> CheckResult | None:
    """The check whose evidence decided ``verdict``: a refuting or failing check; for a reproduced
    claim the least certain held check (largest adjusted p); otherwise an undecided one."""
    refuting = [r for r in results if r.refutes and r.verdict == Verdict.NOT_REPRODUCED]
    if refuting:
        return refuting[0]

    def weakest(r: CheckResult) -> float:
        ps = [p.p_adjusted for p in r.parts() if p.p_adjusted is not None]
        if ps:
            return max(ps)
        return 1 - r.confidence if r.confidence is not None else 0.0

    by = {
        Verdict.NOT_REPRODUCED: [r for r in results if r.verdict == Verdict.NOT_REPRODUCED],
        Verdict.REPRODUCED: sorted((r for r in results if r.verdict == Verdict.REPRODUCED), key=weakest, reverse=True),
        Verdict.PARTIAL: [r for r in results if r.verdict in (Verdict.INCONCLUSIVE, Verdict.PARTIAL)]
        or [r for r in results if r.verdict == Verdict.NOT_CHECKED],
        Verdict.INCONCLUSIVE: [r for r in results if r.verdict == Verdict.INCONCLUSIVE],
    }.get(verdict, [])
    return by[0] if by else None


def decisive_part(results: list[CheckResult], verdict: Verdict) -> Part | None:
    """The part whose number the report shows beside ``verdict``: a failed part for a refuted claim,
    the held part with the largest adjusted p for a reproduced one, an undecided part otherwise."""
    parts = claim_parts(results)
    want = {
        Verdict.NOT_REPRODUCED: (Verdict.NOT_REPRODUCED,),
        Verdict.REPRODUCED: (Verdict.REPRODUCED,),
        Verdict.PARTIAL: (Verdict.INCONCLUSIVE, Verdict.PARTIAL, Verdict.NOT_CHECKED),
        Verdict.INCONCLUSIVE: (Verdict.INCONCLUSIVE,),
    }.get(verdict, ())
    cands = [p for p in parts if p.verdict in want]
    if not cands:
        return None
    if verdict == Verdict.REPRODUCED:
        return max(cands, key=lambda p: -1.0 if p.p_adjusted is None else p.p_adjusted)
    return cands[0]


def _all_checks(registry: Registry) -> list[tuple[str, Check]]:
    out = [(c.id, ch) for c in registry.claims for ch in c.checks]
    if registry.research_question:
        out += [(registry.research_question.id, ch) for ch in registry.research_question.checks]
    return out


def validate(registry: Registry, ctx: CheckContext) -> list[str]:
    """Every problem of the registry's checks in this profile, as ``claim id: message`` lines."""
    problems = []
    # Experiments first: a command experiment declares its task, whose metrics the checks name.
    for name in registry.experiments:
        try:
            ctx.experiment(name)
        except ReproError as exc:
            problems.append(f"experiment {name}: {exc}")
    for owner, check in _all_checks(registry):
        for msg in check.validate_in(ctx):
            problems.append(f"{owner} ({check.describe()}): {msg}")
    for arm_name, arm in registry.arms.items():
        if arm.experiment not in registry.experiments:
            problems.append(f"arm {arm_name}: unknown experiment '{arm.experiment}'")
    return problems


def _run_check(check: Check, ctx: CheckContext, claim: ClaimRef) -> CheckResult:
    """Run one check for ``claim`` and stamp what every result shares: kind, label and seconds."""
    t0 = time.perf_counter()
    try:
        result = check.run(ctx, claim)
    except ReproError as exc:
        result = CheckResult(verdict=Verdict.ERROR, headline=f"check failed: {exc}")
    except Exception as exc:  # noqa: BLE001 - a broken check must not hide the other verdicts
        where = traceback.extract_tb(exc.__traceback__)[-1]
        result = CheckResult(
            verdict=Verdict.ERROR,
            headline=f"check failed: {type(exc).__name__}: {first_line(exc)} ({Path(where.filename).name}:{where.lineno})",
        )
    return result.model_copy(
        update={"kind": check.kind, "label": check.describe(), "seconds": time.perf_counter() - t0}
    )


def _run_checks(
    owner: ClaimRef, checks: list[Check], ctx: CheckContext, on_check: Callable[[str, CheckResult], None] | None
) -> list[CheckResult]:
    results = []
    for check in checks:
        results.append(_run_check(check, ctx, owner))
        if on_check:
            on_check(owner.id, results[-1])
    return results


def _judge(claim: Claim, ctx: CheckContext, on_check: Callable[[str, CheckResult], None] | None) -> ClaimVerdict:
    # A claim's statistical tests are one family: Holm over all of them decides each (docs/statistics.md).
    results = adjust_family(_run_checks(claim.ref(), claim.checks, ctx, None))
    if on_check:
        for r in results:
            on_check(claim.id, r)
    verdict, conf, decided = claim_verdict(results)
    parts = claim_parts(results)
    return ClaimVerdict(
        id=claim.id,
        text=claim.text,
        status=claim.status,
        source=claim.source,
        synthesis=claim.synthesis,
        evidence=list(claim.evidence),
        reported=claim.reported,
        expect=claim.expect,
        verdict=verdict,
        confidence=None if conf is None else round(conf, 4),
        decided_by=decided,
        note=claim.note,
        parts=parts,
        decisive=decisive_part(results, verdict),
        checks=results,
    )


def verify(
    registry_path: Path,
    profile: str,
    results_root: Path = Path("results"),
    papers_dirs: list[Path] | None = None,
    progress: bool = True,
    run_missing: bool = True,
    on_check: Callable[[str, CheckResult], None] | None = None,
    claim_ids: list[str] | None = None,
    allow_outside: bool = False,
) -> VerdictsFile:
    """Verify every claim of ``registry_path`` at ``profile``; write and return the verdicts file.

    ``allow_outside`` lets the registry name experiment files outside its repository.
    """
    t0 = time.perf_counter()
    registry = load_registry(registry_path)
    ctx = registry.check_context(registry_path, profile, results_root, papers_dirs, progress, allow_outside)
    _check_own_name(registry, registry_path, verdicts_path(results_root, registry.name, profile))
    if claim_ids:
        rq_ids = {"RQ", registry.research_question.id} if registry.research_question else set()
        unknown = [c for c in claim_ids if c not in {x.id for x in registry.claims} | rq_ids]
        if unknown:
            raise ReproError(f"no claim {', '.join(unknown)} in {registry_path}")
    problems = validate(registry, ctx)
    if problems:
        raise ReproError(f"{registry_path}: " + "; ".join(problems))

    needed = sorted({e for _, ch in _all_checks(registry) for e in ch.experiments(ctx)})
    records = [_experiment_record(registry, ctx, name, run_missing, progress) for name in needed]
    claims = [c for c in registry.claims if not claim_ids or c.id in claim_ids]
    many = progress and len(claims) >= 200
    verdicts = [_judge(c, ctx, on_check) for c in tqdm(claims, desc="claims", unit="claim", disable=not many)]
    rq = registry.research_question
    answer = None
    if rq and (not claim_ids or "RQ" in claim_ids or rq.id in claim_ids):
        answer = _answer(rq, ctx, on_check)
    out = VerdictsFile(
        registry=registry.name,
        registry_path=str(registry_path),
        profile=profile,
        paper=registry.paper,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        claims=verdicts,
        research_question=answer,
        experiments=records,
        arms=registry.arms,
        findings=registry.findings,
        provenance={
            **provenance(),
            "experiments": {r.name: _experiment_provenance(Path(r.results_dir)) for r in records},
        },
        seconds=round(time.perf_counter() - t0, 1),
    )
    path = verdicts_path(results_root, registry.name, profile)
    # Verifying some claims keeps the stored verdicts of the others (the file stays whole).
    saved = _merged(VerdictsFile.load(path), out, registry) if claim_ids and path.is_file() else out
    saved.save(path)
    return out


def _experiment_record(
    registry: Registry, ctx: CheckContext, name: str, run_missing: bool, progress: bool
) -> ExperimentRecord:
    """Run experiment ``name`` (or, with ``run_missing`` off, check its published results) and record it."""
    exp = ctx.experiment(name)
    out_dir = ctx.results(name).root
    foreign = None
    if run_missing:
        from repro.runner.sweep import run_experiment

        outcome = run_experiment(exp, out_dir, progress=progress)
        computed, cached, secs = len(outcome.computed), len(outcome.cached), outcome.seconds
    elif not (out_dir / "summary.json").is_file():
        raise ReproError(
            f"no results for experiment {name} at profile {ctx.profile} in {out_dir}; run without --no-run"
        )
    else:
        computed = cached = 0
        secs = 0.0
        foreign = _check_published(exp, out_dir)
    summary = read_json(out_dir / "summary.json") if (out_dir / "summary.json").is_file() else {}
    return ExperimentRecord(
        name=name,
        path=str(registry.experiments[name]),
        profile=ctx.profile,
        results_dir=str(out_dir),
        summary=summary,
        computed_steps=computed,
        cached_steps=cached,
        seconds=round(secs, 1),
        sample=exp.eval.sample if exp.command is None else None,
        **({"key_mismatch": foreign} if foreign else {}),
    )


def _answer(
    rq: ResearchQuestion, ctx: CheckContext, on_check: Callable[[str, CheckResult], None] | None
) -> QuestionAnswer:
    """The research question's answer: its tests one family (Holm over all of them decides each finding)."""
    results = adjust_question(_run_checks(rq.ref(), rq.checks, ctx, on_check))
    detail = answer_text(results)
    return QuestionAnswer(
        id=rq.id,
        text=rq.text,
        answer=two_sentences(results) or detail,
        detail=detail,
        checks=results,
        classes=resource_table_state() if any(isinstance(r, TrendResult) for r in results) else [],
    )


def _check_own_name(registry: Registry, path: Path, verdicts: Path) -> None:
    """A ReproError if another registry file has this registry's name: the two would overwrite each
    other's verdicts. Looks at the registries beside this one and at whose verdicts are stored."""
    here = Path(path).resolve()
    others = []
    for sibling in sorted(here.parent.glob("*.y*ml")):
        if sibling.resolve() == here or sibling.suffix not in (".yaml", ".yml"):
            continue
        try:
            head = sibling.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        # A registry (it has claims), not an experiment file: their names are of other folders.
        if re.search(r"^claims:", head, re.M) and re.search(
            rf"^name:\s*['\"]?{re.escape(registry.name)}['\"]?\s*(#.*)?$", head, re.M
        ):
            others.append(sibling)
    if verdicts.is_file() and not others:
        try:
            stored = Path(str(read_json(verdicts).get("registry_path", "")))
        except (ReproError, AttributeError):
            stored = None
        if stored and stored.is_file() and stored.resolve() != here and load_registry(stored).name == registry.name:
            others.append(stored)
    if others:
        raise ReproError(
            f"{path}: registry name '{registry.name}' is also the name of {others[0]}; each registry needs its own "
            f"name (its verdicts go to {verdicts}): rename one of them"
        )


def _check_published(exp: Experiment, out_dir: Path) -> str | None:
    """Before ``--no-run`` uses published results: every hash must match (a ReproError naming the file
    otherwise); published steps under other keys than this machine's are said (a warning) and returned."""
    from repro.runner.store import warn
    from repro.runner.sweep import check_published, foreign_published, plan, published_mismatch, summary_problems

    steps = plan(exp)
    problems, unsealed = check_published(exp, out_dir, steps)
    if problems := problems + summary_problems(out_dir):
        raise published_mismatch(exp, problems)
    if unsealed:
        warn(f"{out_dir}: {unsealed} published records carry no hashes (python -m repro.runner.seal records them)")
    foreign = foreign_published(steps, out_dir)
    if not foreign:
        return None
    note = (
        f"{len(foreign)} of {len(steps)} published steps were computed under other keys than this machine's "
        f"({foreign[0][1]}); --no-run used their numbers as published, `repro run {exp.source} --profile "
        f"{exp.profile}` would compute them here"
    )
    warn(f"{out_dir}: {note}")
    return note


def _merged(old: VerdictsFile, new: VerdictsFile, registry: Registry) -> VerdictsFile:
    """``old`` with the claims (and research question) that ``new`` verified replaced, in registry order."""
    by_id = {c.id: c for c in old.claims} | {c.id: c for c in new.claims}
    claims = [by_id[c.id] for c in registry.claims if c.id in by_id]
    experiments = {e.name: e for e in old.experiments} | {e.name: e for e in new.experiments}
    return new.model_copy(
        update={
            "claims": claims,
            "research_question": new.research_question or old.research_question,
            "experiments": list(experiments.values()),
        }
    )


def _experiment_provenance(results_dir: Path) -> dict[str, object]:
    """Seeds, data checksums, model hashes and wall times of the results a verify used."""
    seeds, data, models, train_seconds, eval_seconds = set(), {}, {}, 0.0, 0.0
    for path in sorted(results_dir.glob("*/*.json")):
        rec = read_json(path)
        if path.name == "train.json":
            seeds.add(rec.get("config", {}).get("seed"))
            train_seconds += float(rec.get("summary", {}).get("seconds", 0.0))
            continue
        record = TaskResult.from_record(rec).record
        seeds.add(record.seed)  # a trained model's seed, or a command step's grid value (its program trains)
        data.update(record.data_checksums or {})
        if record.weights_sha256:
            models[path.parent.name] = record.weights_sha256
        eval_seconds += float(record.wall_seconds or 0.0)
    return {
        "seeds": sorted(s for s in seeds if s is not None),
        "data_checksums": data,
        "model_weights_sha256": models,
        "train_seconds": round(train_seconds, 1),
        "eval_seconds": round(eval_seconds, 1),
    }


def answer_text(results: list[CheckResult]) -> str:
    """The research question's answer in words: the answers of its trend checks, in order."""
    parts = [r.answer for r in results if isinstance(r, TrendResult) and r.verdict != Verdict.ERROR and r.answer]
    return " ".join(parts) if parts else "No trend check produced an answer."
