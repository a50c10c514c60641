"""The sweep table: every grid group (all keys but ``seed``) with mean and spread over seeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from repro.atomic import atomic_write_text
from repro.evaluation.declarations import DECLARATIONS, declared, summary_metric
from repro.evaluation.result import summary_pools
from repro.integrity import bytes_sha256, sealed_text
from repro.runner.experiment import Experiment, point_label

FOCUS_LANGUAGES = ("el", "vi", "hi", "th", "tr", "ar")


def _metrics_of(task: str, result: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of one task result, flattened to ``task metric`` names (the task's declaration)."""
    return declared(task).headline(result)


def summarize(exp: Experiment, results_dir: Path) -> dict[str, Any]:
    """Collect every published result and aggregate over seeds."""
    groups: dict[str, dict[str, list[float]]] = {}
    pools: dict[str, str] = {}  # metric -> candidates its figures were ranked in
    group_points: dict[str, dict[str, Any]] = {}
    entries: list[tuple[str, dict[str, Any] | None]] = [("base", None)] if exp.eval.base_model else []
    entries += [(point_label(p), p) for p in exp.points()]
    for label, point in entries:
        gpoint = {k: v for k, v in (point or {}).items() if k != "seed"}
        gname = "base" if point is None else (point_label(gpoint) or "all")
        group_points[gname] = gpoint
        for task in exp.tasks_for(point):
            path = results_dir / label / f"{task}.json"
            if not path.is_file():
                continue
            result = json.loads(path.read_text())
            for name, value in _metrics_of(task, result).items():
                groups.setdefault(gname, {}).setdefault(name, []).append(value)
            for name, size in summary_pools(task, result).items():
                # Every point of a task searches the same pools; a mismatch shows as "a / b".
                if pools.setdefault(name, size) != size and size not in pools[name].split(" / "):
                    pools[name] += f" / {size}"
    rows = {
        g: {
            name: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, "n": len(v)}
            for name, v in metrics.items()
        }
        for g, metrics in groups.items()
    }
    return {
        "experiment": exp.name,
        "profile": exp.profile,
        "grid": exp.grid,
        "train": exp.train_settings,
        "eval": exp.eval.dump(),
        "groups": {g: group_points[g] for g in rows},
        "rows": rows,
        # Only when results record pools: a summary of older results stays as it was published.
        **({"pools": pools} if pools else {}),
    }


def _cell(row: dict[str, Any], name: str, fmt: str) -> str:
    v = row.get(name)
    if v is None:
        return "-"
    text = format(v["mean"], fmt)
    return f"{text} ± {format(v['std'], fmt)}" if v["n"] > 1 else text


def _fmt(name: str) -> str:
    """The format of a summary metric's cells: its declared decimals (four when undeclared)."""
    metric = summary_metric(name)
    return f".{metric.decimals if metric else 4}f"


def render_summary(summary: dict[str, Any]) -> str:
    """Markdown tables: the headline sweep table and per-language multilingual mAP."""
    rows = summary["rows"]
    out = [f"# {summary['experiment']} ({summary['profile']} profile)", ""]
    # Headline metrics in the order results list them (the experiment's tasks, each as declared).
    heads = list(dict.fromkeys(n for r in rows.values() for n in r if not n.endswith("]")))
    seeds = max((v["n"] for r in rows.values() for v in r.values()), default=1)
    out.append(f"Mean ± standard deviation over seeds (up to {seeds} per row).")
    out.append("")
    pools = summary.get("pools", {})
    out.append("| model | " + " | ".join(_with_pool(h, pools) for h in heads) + " |")
    out.append("|---" * (len(heads) + 1) + "|")
    for g, row in rows.items():
        out.append(f"| {g} | " + " | ".join(_cell(row, h, _fmt(h)) for h in heads) + " |")
    for task in DECLARATIONS.values():
        if task.language_table is None:
            continue
        m = task.metric(task.language_table)
        langs = [lang for lang in FOCUS_LANGUAGES if any(m.summary_key(lang) in r for r in rows.values())]
        if not langs:
            continue
        out += ["", f"Per-language {task.setting(m.setting).description} {m.spec.name} on {task.name}:", ""]
        out.append("| model | " + " | ".join(_with_pool(lang, pools, m.summary_key(lang)) for lang in langs) + " |")
        out.append("|---" * (len(langs) + 1) + "|")
        for g, row in rows.items():
            cells = " | ".join(_cell(row, m.summary_key(lang), f".{m.decimals}f") for lang in langs)
            out.append(f"| {g} | {cells} |")
    return "\n".join(out) + "\n"


def _with_pool(label: str, pools: dict[str, str], key: str | None = None) -> str:
    """A column label with the pool its figures were ranked in: ``xquad-r Mul mAP (pool 522)``."""
    size = pools.get(key or label)
    return f"{label} (pool {size})" if size else label


def write_summary(summary: dict[str, Any], results_dir: Path) -> None:
    """``summary.json`` (sealed: see :mod:`repro.integrity`) for programs, ``summary.md`` for people."""
    markdown = render_summary(summary)
    atomic_write_text(results_dir / "summary.md", markdown)
    files = {"summary.md": bytes_sha256(markdown.encode("utf-8"))}
    atomic_write_text(results_dir / "summary.json", sealed_text(json.loads(json.dumps(summary, default=str)), files))
