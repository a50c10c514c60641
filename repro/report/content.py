"""What a report shows, independent of its format: the HTML and Markdown renderers both read this.

A pure function of the verdicts file (:func:`build_content`): it reads no registry, experiment or
result file, so a report shows what verify decided even after those files moved or changed. Fields
a verdicts file lacks (one written before they were stored, a registry without experiments) show
as nothing, never as an error caught and hidden.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import jinja2

from repro.cache import slug
from repro.checks.base import CheckResult, Figure, Table, Verdict
from repro.checks.trend import GainCurve, TrendResult
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
    env.globals.update(
        figure_rows=figure_rows,
        table_rows=table_rows,
        claim_meta=claim_meta,
        seeds_note=seeds_note,
        deciding=deciding,
        reading=READING,
    )
    return env


# How to read the number beside a verdict (shown under the summary table).
READING = (
    "Deciding number: for a statistical part, our effect A - B with its 95% interval and its p-value "
    "Holm-adjusted over the claim's tests; a part is decided when that p is <= 0.05 (the interval "
    "then excludes the claimed margin), and its sign says held or failed. For a text part, the "
    "support score, a probability calibrated on labelled passages. A claim is reproduced only if "
    "every decided part held; one failed part makes it not reproduced; partially reproduced means "
    "some parts held and the rest stayed undecided."
)


def deciding(cl: ClaimVerdict) -> str:
    """The number a claim's verdict rests on, in words (the deciding part's), or the dash."""
    if cl.decisive is not None and cl.decisive.number:
        return cl.decisive.number
    if cl.confidence is not None:
        return f"support {cl.confidence:.2f}"
    return MISSING


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
    """One number the paper reports beside ours for the same arm, task and metric (when we have it).

    ``evaluation``: how much of the task ours was measured on (items per language kept, the pool
    searched), since the paper's numbers are on the whole test sets.
    """

    what: str
    where: str
    backbone: str
    paper: float
    ours: str
    evaluation: str = MISSING


@dataclass
class CurvePanel:
    """One trend check's gain-vs-x curves per Joshi class and resource group, seen and unseen apart."""

    title: str
    x_label: str
    y_label: str
    items: str
    curves: list[GainCurve]


@dataclass
class QuestionView:
    """The research question's section beyond its checks: curves per class, an overview, the class table.

    ``panels`` is aligned with the question's checks (None for a check without curves).
    ``overview_rows``: one row per check and group with its gain at the check's ``at``.
    ``classes``: the state of the Joshi class table (source, copy, how it was checked).
    """

    panels: list[CurvePanel | None]
    overview_columns: list[str]
    overview_rows: list[list[str]]
    classes: list[tuple[str, str]]
    lead: CurvePanel | None = None
    lead_file: str = ""


@dataclass
class SettingsView:
    """Our training and evaluation settings beside the paper's, with what differs."""

    experiment: str
    rows: list[list[str]]


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
    question: QuestionView | None = None
    settings: list[SettingsView] = field(default_factory=list)


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
        question=_question(vf),
        settings=_settings(vf),
    )


def _findings(vf: VerdictsFile) -> list[FindingView]:
    """The registry's findings about its paper, as verify stored them."""
    return [
        FindingView(
            kind=f.kind,
            message=f.message,
            where=", ".join(x for x in (f"p. {f.page}" if f.page else "", f.section or "", f.table or "") if x) or "–",
            quote=f.quote,
            elsewhere=f.elsewhere,
        )
        for f in vf.findings
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
    if cl.note:
        parts.append(f"note: {cl.note}")
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
    """Arm name -> (experiment, grid point), as verify stored the registry's arms."""
    return {name: (arm.experiment, arm.point) for name, arm in vf.arms.items()}


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
    ours = evaluation = MISSING
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
                evaluation = _evaluation_note(exp, rep.task, metric)
                break
    return PaperVsOurs(
        what=rep.what,
        where=rep.where or "",
        backbone=rep.backbone or "",
        paper=rep.value,
        ours=ours,
        evaluation=evaluation,
    )


def _evaluation_note(exp: ExperimentRecord, task: str, metric: str) -> str:
    """How much of ``task`` an experiment's figures were measured on: items kept per language, the draw, the pool."""
    summary = exp.summary
    spec = summary.get("eval") if isinstance(summary.get("eval"), dict) else {}
    limit = spec.get("limit")
    limit = limit.get(task) if isinstance(limit, dict) else limit
    sample = spec.get("sample") or exp.sample
    text = "whole task" if limit is None else f"{limit} items per language"
    if limit is not None and sample:
        text += f" ({'first in file order' if sample == 'first' else 'seeded random draw'})"
    pool = (summary.get("pools") or {}).get(metric)
    return text + (f"; pool {pool} candidates" if pool else "")


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


# ---------------------------------------------------------------- the research question
def _interval(g: Any) -> str:
    return f"{g.observed:+.4f} [{g.low:+.4f}, {g.high:+.4f}]"


def _panel(r: TrendResult) -> CurvePanel | None:
    """The curves of one trend result, if it has any points."""
    if not any(c.points for c in r.curves):
        return None
    better = "lower" if r.lower_is_better else "higher"
    return CurvePanel(
        title=f"{r.label or r.task}: gain over {r.x}={fmt_x(r.reference)} per Joshi class, with 95% intervals "
        f"over seed pairs and items ({r.items})",
        x_label=r.x,
        y_label=f"gain in {r.metric} ({better} is better)",
        items=r.items,
        curves=list(r.curves),
    )


def fmt_x(value: Any) -> str:
    """A grid value as set (0.5, not 0.5000)."""
    return f"{value:g}" if isinstance(value, float) else fmt(value)


def _question(vf: VerdictsFile) -> QuestionView | None:
    """Curves per class for each trend check, one overview row per check and group, the class table's state."""
    rq = vf.research_question
    if rq is None:
        return None
    panels: list[CurvePanel | None] = []
    rows: list[list[str]] = []
    for r in rq.checks:
        if not isinstance(r, TrendResult):
            panels.append(None)
            continue
        panels.append(_panel(r))
        for c in r.curves:
            at = next((p for p in c.points if r.at is not None and math.isclose(p.x, r.at)), None)
            if at is None:
                continue
            rows.append(
                [
                    f"{r.task} {r.metric}",
                    c.name,
                    " ".join(c.langs),
                    _interval(at),
                    str(at.n_seeds),
                ]
            )
    trends = [r for r in rq.checks if isinstance(r, TrendResult) and r.at is not None]
    at_values = sorted({fmt_x(r.at) for r in trends})
    refs = sorted({fmt_x(r.reference) for r in trends})
    x = trends[0].x if trends else "x"
    gain = f"gain at {x}={'/'.join(at_values)} over {x}={'/'.join(refs)}, 95% CI" if trends else "gain"
    # The figure that opens the question: the panel over the most languages (most classes seen and unseen).
    with_panels = [(p, r) for p, r in zip(panels, rq.checks) if p is not None and isinstance(r, TrendResult)]
    lead = max(with_panels, key=lambda pr: len({g for c in pr[0].curves for g in c.langs}), default=(None, None))[0]
    return QuestionView(
        panels=panels,
        overview_columns=["task, metric", "group", "languages", gain, "seed pairs"],
        overview_rows=rows,
        classes=[tuple(row) for row in rq.classes],
        lead=lead,
        lead_file=lead_figure_name(vf) if lead is not None else "",
    )


def file_part(name: str) -> str:
    """A registry or profile name made safe as part of a file name (it comes from a YAML file)."""
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name).strip("._")
    return safe or "report"


def lead_figure_name(vf: VerdictsFile) -> str:
    """The file the research question's opening figure is written to, beside the reports."""
    return f"{file_part(vf.registry)}-{file_part(vf.profile)}-rq.png"


# ---------------------------------------------------------------- training settings vs the paper
_SETTING_LABELS = {
    "train.model": "backbone",
    "train.corpus": "training corpus",
    "train.holdout_languages": "languages held out of training (unseen)",
    "train.steps": "training steps",
    "train.batch_size": "batch size",
    "train.max_length": "max training length (tokens)",
    "train.lr": "learning rate",
    "train.weight_decay": "weight decay",
    "train.warmup_ratio": "warm-up (share of steps)",
    "train.temperature": "InfoNCE temperature",
    "train.freeze_embeddings": "word embeddings frozen",
    "train.early_stopping_patience": "early stopping (patience, validations)",
    "train.val_pairs": "validation pairs",
    "train.eval_every": "validation every (steps)",
    "train.checkpoint_every": "checkpoint every (steps)",
    "train.precision": "precision",
    "grid.alpha": "alpha (share of X-X-mono batches)",
    "grid.seed": "seeds",
    "eval.limit": "evaluation limit (items per language)",
    "eval.max_length": "max evaluation length (tokens)",
    "eval.langs": "evaluation languages",
}


def _lookup(summary: dict[str, Any], key: str) -> Any:
    node: Any = summary
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _setting_text(key: str, value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, dict):
        return ", ".join(f"{k} {_setting_text(key, v)}" for k, v in value.items()) or "all"
    if isinstance(value, list):
        text = " ".join(fmt_x(v) for v in value) if value else "none"
        return f"{text} ({len(value)} seeds)" if key == "grid.seed" else text
    return fmt_x(value)


def _first_number(text: str) -> float | None:
    import re

    m = re.search(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text.replace(",", ""))
    return float(m.group(0)) if m else None


def _compare(paper: str, ours: str) -> str:
    """same / differs / the paper does not say: what a reader needs to know about one setting."""
    if paper == MISSING:
        return "not in the paper's settings"
    if paper.lower().startswith("not stated"):
        return "the paper does not say"
    if paper.strip().lower() == ours.strip().lower():
        return "same"
    a = _first_number(paper)
    try:
        b = float(ours)
    except ValueError:
        return "differs"
    return "same" if a is not None and math.isclose(a, b) else "differs"


def _settings(vf: VerdictsFile) -> list[SettingsView]:
    """Per experiment with a training config: every setting beside the paper's and whether it differs."""
    paper = dict(vf.paper.settings)
    out = []
    for exp in vf.experiments:
        summary = exp.summary if isinstance(exp.summary, dict) else {}
        if not isinstance(summary.get("train"), dict):
            continue
        keys = list(paper) + [f"train.{k}" for k in summary["train"] if f"train.{k}" not in paper]
        keys += [k for k in ("grid.alpha", "grid.seed", "eval.limit", "eval.max_length") if k not in keys]
        rows = []
        for key in keys:
            ours = _setting_text(key, _lookup(summary, key))
            theirs = paper.get(key, MISSING)
            rows.append([_SETTING_LABELS.get(key, key), theirs, ours, _compare(theirs, ours)])
        title = f"{exp.name} ({exp.profile})" if exp.profile else exp.name
        out.append(SettingsView(experiment=title, rows=rows))
    return out
