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

from repro.checks.base import Check, CheckResult, ClaimRef, Verdict
from repro.checks.context import CheckContext
from repro.checks.tested import adjust_family
from repro.checks.trend import TrendResult
from repro.claims.registry import Claim, Registry, load_registry
from repro.claims.verdicts import ClaimVerdict, ExperimentRecord, QuestionAnswer, VerdictsFile, verdicts_path
from repro.errors import ReproError, first_line
from repro.integrity import read_json
from repro.provenance import provenance

if TYPE_CHECKING:
    from repro.runner.experiment import Experiment

# How check verdicts combine into a claim's: checks that could not look (not checked) do not
# count unless nothing else did; an error anywhere makes the claim an error.
_DECISIVE = (Verdict.REPRODUCED, Verdict.PARTIAL, Verdict.NOT_REPRODUCED)


def claim_verdict(results: list[CheckResult]) -> tuple[Verdict, float | None, str]:
    """Combine a claim's check results into (verdict, confidence, the headline that decided it).

    A check that refutes the claim (``CheckResult.refutes``: its source says otherwise) -> not
    reproduced. Otherwise all decisive checks reproduced -> reproduced; all not reproduced -> not
    reproduced; a mix, or any partial -> partially reproduced. With no decisive check: inconclusive if any check
    looked, not checked otherwise. Confidence is the smallest confidence among the checks that
    decided (a claim is as sure as its weakest supporting evidence).
    """
    if not results:
        return Verdict.NOT_CHECKED, None, "no checks"
    errors = [r for r in results if r.verdict == Verdict.ERROR]
    if errors:
        return Verdict.ERROR, None, errors[0].headline
    decisive = [r for r in results if r.verdict in _DECISIVE]
    refuting = [r for r in decisive if r.refutes and r.verdict == Verdict.NOT_REPRODUCED]
    if refuting:
        # The evidence says the claim misstates its source: no other check can make it reproduced.
        confs = [r.confidence for r in refuting if r.confidence is not None]
        return Verdict.NOT_REPRODUCED, (min(confs) if confs else None), refuting[0].headline
    if decisive:
        kinds = {r.verdict for r in decisive}
        if kinds == {Verdict.REPRODUCED}:
            verdict = Verdict.REPRODUCED
        elif kinds == {Verdict.NOT_REPRODUCED}:
            verdict = Verdict.NOT_REPRODUCED
        else:
            verdict = Verdict.PARTIAL
        confs = [r.confidence for r in decisive if r.confidence is not None]
        # The deciding evidence: for a failure, the failing check; otherwise the least certain one.
        if verdict == Verdict.REPRODUCED:
            decider = min(decisive, key=lambda r: r.confidence if r.confidence is not None else 1.0)
        else:
            decider = next(r for r in decisive if r.verdict != Verdict.REPRODUCED)
        return verdict, (min(confs) if confs else None), decider.headline
    looked = [r for r in results if r.verdict == Verdict.INCONCLUSIVE]
    if looked:
        confs = [r.confidence for r in looked if r.confidence is not None]
        return Verdict.INCONCLUSIVE, (min(confs) if confs else None), looked[0].headline
    return Verdict.NOT_CHECKED, None, results[0].headline


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
        more = f" (+{len(problems) - 1} more: {'; '.join(problems[1:3])})" if len(problems) > 1 else ""
        raise ReproError(f"{registry_path}: {problems[0]}{more}")

    needed = sorted({e for _, ch in _all_checks(registry) for e in ch.experiments(ctx)})
    records = []
    for name in needed:
        exp = ctx.experiment(name)
        out_dir = ctx.results(name).root
        foreign = None
        if run_missing:
            from repro.runner.sweep import run_experiment

            outcome = run_experiment(exp, out_dir, progress=progress)
            computed, cached, secs = len(outcome.computed), len(outcome.cached), outcome.seconds
        elif not (out_dir / "summary.json").is_file():
            raise ReproError(
                f"no results for experiment {name} at profile {profile} in {out_dir}; run without --no-run"
            )
        else:
            computed = cached = 0
            secs = 0.0
            foreign = _check_published(exp, out_dir)
        summary = read_json(out_dir / "summary.json") if (out_dir / "summary.json").is_file() else {}
        records.append(
            ExperimentRecord(
                name=name,
                path=str(registry.experiments[name]),
                profile=profile,
                results_dir=str(out_dir),
                summary=summary,
                computed_steps=computed,
                cached_steps=cached,
                seconds=round(secs, 1),
                **({"key_mismatch": foreign} if foreign else {}),
            )
        )

    claims = [c for c in registry.claims if not claim_ids or c.id in claim_ids]
    many = progress and len(claims) >= 200
    verdicts = [_judge(c, ctx, on_check) for c in tqdm(claims, desc="claims", unit="claim", disable=not many)]
    answer = None
    rq = registry.research_question
    if rq and (not claim_ids or "RQ" in claim_ids or rq.id in claim_ids):
        results = _run_checks(rq.ref(), rq.checks, ctx, on_check)
        answer = QuestionAnswer(id=rq.id, text=rq.text, answer=answer_text(results), checks=results)
    out = VerdictsFile(
        registry=registry.name,
        registry_path=str(registry_path),
        profile=profile,
        paper=registry.paper,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        claims=verdicts,
        research_question=answer,
        experiments=records,
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
            cfg = rec.get("config", {})
            seeds.add(cfg.get("seed"))
            train_seconds += float(rec.get("summary", {}).get("seconds", 0.0))
            continue
        if isinstance(rec.get("command"), dict) and isinstance(rec.get("point"), dict):
            seeds.add(rec["point"].get("seed"))  # a command step's seed is a grid value (its program trains)
        data.update(rec.get("data_checksums", {}) or {})
        model = rec.get("model", {})
        if isinstance(model, dict) and model.get("weights_sha256"):
            models[path.parent.name] = model["weights_sha256"]
        eval_seconds += float(rec.get("wall_seconds", 0.0) or 0.0)
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
