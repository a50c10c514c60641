"""What a report shows, independent of its format: the HTML and Markdown renderers both read this.

Every field of a verdicts file past the verdicts themselves is optional in practice (an old file, a
run restricted to some claims, a registry without experiments), so everything here degrades to
"nothing to show" rather than failing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from repro.cache import slug
from repro.checks.base import CheckResult, Figure, Table, Verdict
from repro.claims.verdicts import ClaimVerdict, ExperimentRecord, VerdictsFile
from repro.errors import ReproError
from repro.evaluation.declarations import parse_metric, summary_metric

# CSS class per verdict; the colours live in report.css.
VERDICT_CLASS = {
    Verdict.REPRODUCED: "reproduced",
    Verdict.PARTIAL: "partial",
    Verdict.NOT_REPRODUCED: "not-reproduced",
    Verdict.INCONCLUSIVE: "inconclusive",
    Verdict.NOT_CHECKED: "not-checked",
    Verdict.ERROR: "error",
}

MISSING = "–"


def fmt(value: Any) -> str:
    """One table cell as text: compact numbers, yes/no for booleans, JSON for anything nested."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        if value == int(value) and abs(value) >= 1000:
            return str(int(value))
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def environment(**options: Any) -> jinja2.Environment:
    """The report templates' environment with what both formats share; ``options`` add to it (finalize...)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("repro.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        **options,
    )
    env.filters.update(fmt=fmt)
    env.globals.update(figure_rows=figure_rows, table_rows=table_rows, claim_meta=claim_meta, seeds_note=seeds_note)
    return env


def seeds_note(result: CheckResult) -> str:
    """For a statistical check left undecided: the seed pairs it has and how many would decide it ("" otherwise)."""
    from repro.checks.tested import StatisticalResult

    if not isinstance(result, StatisticalResult) or not result.tests:
        return ""
    open_tests = [t for t in result.tests if t.outcome == "undecided"]
    if not open_tests:
        return ""
    have = min(t.n_seeds for t in open_tests)
    planned = [t.seeds_needed for t in open_tests if t.seeds_needed]
    need = f"; about {max(planned)} would decide it" if planned else ""
    return f"{have} seed pair{'s' if have != 1 else ''}{need}"


def anchor(prefix: str, name: str) -> str:
    """An element id for ``name`` (ids are untrusted text; anchors keep only safe characters)."""
    return f"{prefix}-{slug(name)}"


@dataclass
class PaperVsOurs:
    """One number the paper reports beside ours for the same arm, task and metric (when we have it)."""

    what: str
    where: str
    backbone: str
    paper: float
    ours: str


@dataclass
class ClaimView:
    """A claim with everything its section shows."""

    claim: ClaimVerdict
    anchor: str
    css: str
    paper_vs_ours: list[PaperVsOurs] = field(default_factory=list)


@dataclass
class SweepTable:
    """One experiment's sweep summary: headline metrics per group, per-language metrics per group."""

    name: str
    groups: list[str]
    headline: list[str]
    per_language: list[str]
    cells: dict[str, dict[str, str]]


@dataclass
class ExperimentView:
    """One experiment's provenance: facts (seeds, wall times, steps), data checksums, model hashes."""

    name: str
    facts: list[tuple[str, str]]
    data: list[tuple[str, str]]
    models: list[tuple[str, str]]


@dataclass
class FindingView:
    """One thing the paper's own text and tables do not agree on (the registry's ``findings:``)."""

    kind: str
    message: str
    where: str
    quote: str
    elsewhere: list[str]


@dataclass
class ReportContent:
    """Everything both renderers need, already formatted."""

    vf: VerdictsFile
    title: str
    claims: list[ClaimView]
    sweeps: list[SweepTable]
    run: list[tuple[str, str]]
    packages: list[tuple[str, str]]
    experiments: list[ExperimentView]
    counts: list[tuple[str, str, int]]
    findings: list[FindingView] = field(default_factory=list)


def verdict_css(verdict: Verdict) -> str:
    return VERDICT_CLASS.get(verdict, "inconclusive")


def build_content(vf: VerdictsFile) -> ReportContent:
    """Turn a verdicts file into the report's content."""
    arms = _arm_groups(vf)
    claims = [
        ClaimView(
            claim=c,
            anchor=anchor("claim", c.id),
            css=verdict_css(c.verdict),
            paper_vs_ours=[_paper_vs_ours(r, vf, arms) for r in c.reported],
        )
        for c in vf.claims
    ]
    title = vf.paper.title or vf.registry
    counts = [(v.value, VERDICT_CLASS[v], sum(1 for c in vf.claims if c.verdict == v)) for v in Verdict]
    return ReportContent(
        vf=vf,
        title=title,
        claims=claims,
        sweeps=[s for s in map(_sweep, vf.experiments) if s],
        run=_run_rows(vf),
        packages=_packages(vf),
        experiments=_experiment_provenance(vf),
        counts=[c for c in counts if c[2]],
        findings=_findings(vf),
    )


def _findings(vf: VerdictsFile) -> list[FindingView]:
    """The registry's findings about its paper, if the registry still loads (as for the arms)."""
    from repro.claims.registry import load_registry
    from repro.errors import ReproError

    path = Path(vf.registry_path)
    if not path.is_file():
        return []
    try:
        registry = load_registry(path)
    except (ReproError, OSError, ValueError, ImportError):
        return []
    return [
        FindingView(
            kind=f.kind,
            message=f.message,
            where=", ".join(x for x in (f"p. {f.page}" if f.page else "", f.section or "", f.table or "") if x) or "–",
            quote=f.quote,
            elsewhere=f.elsewhere,
        )
        for f in registry.findings
    ]


def check_css(result: CheckResult) -> str:
    return verdict_css(result.verdict)


def figure_rows(fig: Figure) -> tuple[list[str], list[list[str]]]:
    """A figure as a small table: lines give one row per series over x, bars one row per label."""
    if fig.kind == "bars":
        columns = [fig.x_label or "label", *fig.series]
        rows = [[fmt(x), *(fmt(_at(vals, i)) for vals in fig.series.values())] for i, x in enumerate(fig.x)]
    else:
        # x values are settings (alpha = 0.25), not measurements: shortest form, not four decimals.
        columns = [fig.x_label or "series", *(f"{x:g}" if isinstance(x, float) else fmt(x) for x in fig.x)]
        rows = [[name, *(fmt(_at(vals, i)) for i in range(len(fig.x)))] for name, vals in fig.series.items()]
    return columns, rows


def table_rows(table: Table) -> list[list[str]]:
    """A check's table with every cell formatted and every row as wide as the header."""
    width = len(table.columns)
    out = []
    for row in table.rows:
        cells = [fmt(v) for v in row]
        out.append(cells + [""] * (width - len(cells)) if len(cells) < width else cells)
    return out


def claim_meta(cl: ClaimVerdict) -> list[str]:
    """Where the claim comes from and what else is known about it, as short phrases."""
    parts = []
    if cl.source.arxiv:
        parts.append(f"arXiv {cl.source.arxiv}")
    if cl.source.section:
        parts.append(cl.source.section)
    if cl.source.page:
        parts.append(f"p. {cl.source.page}")
    if cl.synthesis:
        parts.append(
            f"synthesis: {'verified' if cl.synthesis.verified else 'not verified'} ({cl.synthesis.confidence:.2f})"
        )
    if cl.evidence:
        parts.append(f"evidence: {', '.join(cl.evidence)}")
    if cl.status != "confirmed":
        parts.append(f"status: {cl.status}")
    if cl.expect:
        differs = " (differs)" if cl.expect != cl.verdict else ""
        parts.append(f"expected verdict: {cl.expect.value}{differs}")
    return parts


def details_json(result: CheckResult) -> str:
    return json.dumps(result.details, indent=1, ensure_ascii=False, default=str, sort_keys=True)


def _at(values: list[Any], i: int) -> Any:
    return values[i] if i < len(values) else None


def _arm_groups(vf: VerdictsFile) -> dict[str, tuple[str, dict[str, Any] | None]]:
    """Arm name -> (experiment, grid point) from the registry the verdicts came from, if it still loads.

    The verdicts file does not repeat the registry's arms, and the report must still render when the
    registry has moved or no longer validates; then paper numbers simply have no "ours" beside them.
    """
    from repro.claims.registry import load_registry
    from repro.errors import ReproError

    path = Path(vf.registry_path)
    if not path.is_file():
        return {}
    try:
        registry = load_registry(path)
    except (ReproError, OSError, ValueError, ImportError):
        return {}
    return {name: (arm.experiment, arm.point) for name, arm in registry.arms.items()}


def _group_of(summary: dict[str, Any], point: dict[str, Any] | None) -> str | None:
    if point is None:
        return "base" if "base" in summary.get("rows", {}) else None
    want = {k: v for k, v in point.items() if k != "seed"}
    for name, gpoint in (summary.get("groups") or {}).items():
        if name != "base" and gpoint == want:
            return name
    return None


def _mean_std(cell: Any, decimals: int | None = None) -> str:
    """A summary cell as ``mean ± std (n=...)``; the mean to ``decimals`` places when the metric declares them."""
    if not isinstance(cell, dict) or "mean" not in cell:
        return fmt(cell)
    mean = cell["mean"]
    declared = decimals is not None and isinstance(mean, float) and math.isfinite(mean)
    text = f"{mean:.{decimals}f}" if declared else fmt(mean)
    n = cell.get("n", 1) or 1
    if n <= 1:
        return text
    std = cell.get("std")
    # The spread to as many decimals as the mean, so the two read as one number.
    decimals = len(text.split(".")[1]) if "." in text else 0
    spread = f"{std:.{decimals}f}" if isinstance(std, (int, float)) and not isinstance(std, bool) else fmt(std)
    return f"{text} ± {spread} (n={n})"


def _paper_vs_ours(rep: Any, vf: VerdictsFile, arms: dict[str, tuple[str, dict[str, Any] | None]]) -> PaperVsOurs:
    ours = MISSING
    if rep.arm and rep.task and rep.metric:
        exp_name, point = arms.get(rep.arm, (None, None))
        for exp in vf.experiments:
            if exp_name is not None and exp.name != exp_name:
                continue
            group = (
                _group_of(exp.summary, point)
                if rep.arm in arms
                else (rep.arm if rep.arm in exp.summary.get("rows", {}) else None)
            )
            metric = _summary_key(rep.task, rep.metric, rep.lang)
            cell = (exp.summary.get("rows", {}).get(group) or {}).get(metric) if group else None
            if cell is not None:
                ours = _mean_std(cell, _decimals(metric))
                break
    return PaperVsOurs(what=rep.what, where=rep.where or "", backbone=rep.backbone or "", paper=rep.value, ours=ours)


def _summary_key(task: str, metric: str, lang: str | None) -> str:
    """The sweep-summary name of a task's metric as the task declares it (``Mul rank distance`` is
    ``rank distance``); an undeclared one as written."""
    try:
        return parse_metric(task, metric).summary_key(lang)
    except ReproError:
        return f"{task} {metric}" + (f" [{lang}]" if lang else "")


def _decimals(summary_key: str) -> int | None:
    metric = summary_metric(summary_key)
    return metric.decimals if metric else None


def _sweep(exp: ExperimentRecord) -> SweepTable | None:
    rows = exp.summary.get("rows") if isinstance(exp.summary, dict) else None
    if not isinstance(rows, dict) or not rows:
        return None
    groups = list(rows)
    metrics: list[str] = []
    for metric_cells in rows.values():
        for name in metric_cells if isinstance(metric_cells, dict) else {}:
            if name not in metrics:
                metrics.append(name)
    cells = {
        g: {
            m: _mean_std(rows[g][m], _decimals(m)) if isinstance(rows[g], dict) and m in rows[g] else MISSING
            for m in metrics
        }
        for g in groups
    }
    # Every figure reads with the pool it was ranked in (candidates searched), when results say.
    pools = exp.summary.get("pools") or {}
    label = {m: f"{m} (pool {pools[m]})" if m in pools else m for m in metrics}
    cells = {g: {label[m]: text for m, text in row.items()} for g, row in cells.items()}
    title = f"{exp.name} ({exp.profile})" if exp.profile else exp.name
    return SweepTable(
        name=title,
        groups=groups,
        headline=[label[m] for m in metrics if "[" not in m],
        per_language=[label[m] for m in metrics if "[" in m],
        cells=cells,
    )


def _run_rows(vf: VerdictsFile) -> list[tuple[str, str]]:
    prov = vf.provenance or {}
    git = prov.get("git") if isinstance(prov.get("git"), dict) else {}
    commit = git.get("commit")
    commit_text = MISSING if not commit else commit + (" (uncommitted changes)" if git.get("dirty") else "")
    rows = [
        ("registry", f"{vf.registry} ({vf.registry_path})"),
        ("profile", vf.profile),
        ("verified", vf.created),
        ("verify wall time", f"{vf.seconds:.1f} s"),
        ("git commit", commit_text),
    ]
    if vf.paper.arxiv:
        rows.append(
            ("paper", f"arXiv {vf.paper.arxiv}" + (f" — {', '.join(vf.paper.authors)}" if vf.paper.authors else ""))
        )
    for key in ("python", "platform", "machine", "created"):
        if prov.get(key):
            rows.append((key if key != "created" else "environment recorded", fmt(prov[key])))
    known = {"git", "packages", "python", "platform", "machine", "created", "experiments"}
    rows += [(k, fmt(v)) for k, v in prov.items() if k not in known]
    return rows


def _packages(vf: VerdictsFile) -> list[tuple[str, str]]:
    packages = (vf.provenance or {}).get("packages")
    return [(k, fmt(v)) for k, v in packages.items()] if isinstance(packages, dict) else []


def _experiment_provenance(vf: VerdictsFile) -> list[ExperimentView]:
    """Per experiment: what the run record and the provenance say about it."""
    prov = (vf.provenance or {}).get("experiments")
    prov = prov if isinstance(prov, dict) else {}
    names = [e.name for e in vf.experiments] + [n for n in prov if n not in {e.name for e in vf.experiments}]
    out = []
    for name in names:
        rec = next((e for e in vf.experiments if e.name == name), None)
        p = prov.get(name) if isinstance(prov.get(name), dict) else {}
        facts: list[tuple[str, str]] = []
        if rec is not None:
            facts += [
                ("experiment file", rec.path),
                ("profile", rec.profile),
                ("results", rec.results_dir),
                ("steps computed / cached", f"{rec.computed_steps} / {rec.cached_steps}"),
                ("run wall time", f"{rec.seconds:.1f} s"),
            ]
        if "seeds" in p:
            facts.append(("seeds", ", ".join(fmt(s) for s in p["seeds"]) or MISSING))
        for key, label in (("train_seconds", "training wall time"), ("eval_seconds", "evaluation wall time")):
            if key in p:
                facts.append((label, f"{fmt(p[key])} s"))
        facts += [
            (k, fmt(v))
            for k, v in p.items()
            if k not in ("seeds", "train_seconds", "eval_seconds", "data_checksums", "model_weights_sha256")
        ]
        data = p.get("data_checksums") if isinstance(p.get("data_checksums"), dict) else {}
        models = p.get("model_weights_sha256") if isinstance(p.get("model_weights_sha256"), dict) else {}
        out.append(
            ExperimentView(
                name=name,
                facts=facts,
                data=[(k, fmt(v)) for k, v in sorted(data.items())],
                models=[(k, fmt(v)) for k, v in sorted(models.items())],
            )
        )
    return out
