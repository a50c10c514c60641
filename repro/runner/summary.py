"""The sweep table: every grid group (all keys but ``seed``) with mean and spread over seeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from repro.atomic import atomic_write_text
from repro.runner.experiment import Experiment, point_label

FOCUS_LANGUAGES = ("el", "vi", "hi", "th", "tr", "ar")


def _metrics_of(task: str, result: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of one task result, flattened to ``task setting metric`` names."""
    s, t = result["summary"], result["tables"]
    out: dict[str, float] = {}
    if task in ("xquad-r", "mlqa-r"):
        for setting, short in (("mono", "Mo"), ("cross", "Cr"), ("multi", "Mul")):
            if setting in s:
                out[f"{task} {short} mAP"] = s[setting]["mAP"]
        if "multi" in s:
            out[f"{task} rank distance"] = s["multi"]["rank distance"]
            for lang, row in t["multi"].items():
                out[f"{task} Mul mAP [{lang}]"] = row["mAP"]
                out[f"{task} rank distance [{lang}]"] = row["rank distance"]
    elif task == "tydi-goldp":
        out["tydi-goldp nDCG@10"] = s["mono"]["nDCG@10"]
        for lang, row in t["mono"].items():
            out[f"tydi-goldp nDCG@10 [{lang}]"] = row["nDCG@10"]
    elif task == "tatoeba":
        out["tatoeba acc"] = s["bitext"]["mean"]
    return out


def summarize(exp: Experiment, results_dir: Path) -> dict[str, Any]:
    """Collect every published result and aggregate over seeds."""
    groups: dict[str, dict[str, list[float]]] = {}
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
            for name, value in _metrics_of(task, json.loads(path.read_text())).items():
                groups.setdefault(gname, {}).setdefault(name, []).append(value)
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
        "train": exp.train,
        "eval": exp.eval.model_dump(),
        "groups": {g: group_points[g] for g in rows},
        "rows": rows,
    }


def _cell(row: dict[str, Any], name: str, fmt: str) -> str:
    v = row.get(name)
    if v is None:
        return "-"
    text = format(v["mean"], fmt)
    return f"{text} ± {format(v['std'], fmt)}" if v["n"] > 1 else text


def render_summary(summary: dict[str, Any]) -> str:
    """Markdown tables: the headline sweep table and per-language multilingual mAP."""
    rows = summary["rows"]
    out = [f"# {summary['experiment']} ({summary['profile']} profile)", ""]
    heads = [
        n
        for n in (
            "xquad-r Mo mAP",
            "xquad-r Cr mAP",
            "xquad-r Mul mAP",
            "xquad-r rank distance",
            "mlqa-r Mo mAP",
            "mlqa-r Cr mAP",
            "mlqa-r Mul mAP",
            "mlqa-r rank distance",
            "tydi-goldp nDCG@10",
            "tatoeba acc",
        )
        if any(n in r for r in rows.values())
    ]
    seeds = max((v["n"] for r in rows.values() for v in r.values()), default=1)
    out.append(f"Mean ± standard deviation over seeds (up to {seeds} per row).")
    out.append("")
    out.append("| model | " + " | ".join(heads) + " |")
    out.append("|---" * (len(heads) + 1) + "|")
    for g, row in rows.items():
        out.append(f"| {g} | " + " | ".join(_cell(row, h, ".1f" if "distance" in h else ".4f") for h in heads) + " |")
    for task in ("xquad-r", "mlqa-r"):
        langs = [lang for lang in FOCUS_LANGUAGES if any(f"{task} Mul mAP [{lang}]" in r for r in rows.values())]
        if not langs:
            continue
        out += ["", f"Per-language multilingual mAP on {task}:", ""]
        out.append("| model | " + " | ".join(langs) + " |")
        out.append("|---" * (len(langs) + 1) + "|")
        for g, row in rows.items():
            out.append(f"| {g} | " + " | ".join(_cell(row, f"{task} Mul mAP [{lang}]", ".4f") for lang in langs) + " |")
    return "\n".join(out) + "\n"


def write_summary(summary: dict[str, Any], results_dir: Path) -> None:
    """``summary.json`` for programs, ``summary.md`` for people."""
    atomic_write_text(results_dir / "summary.json", json.dumps(summary, indent=1, default=str) + "\n")
    atomic_write_text(results_dir / "summary.md", render_summary(summary))
