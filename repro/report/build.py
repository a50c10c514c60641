"""Pick a verdicts file and write its reports: what ``repro report`` does."""

from __future__ import annotations

from pathlib import Path

from repro.atomic import atomic_write_text
from repro.claims.verdicts import VerdictsFile
from repro.errors import ReproError
from repro.report.content import build_content, file_part

FORMATS = ("html", "md")


def find_verdicts(results_root: Path, registry: str | None = None, profile: str | None = None) -> Path:
    """The most recently written verdicts file under ``results_root/claims`` (optionally of one registry/profile)."""
    base = Path(results_root) / "claims"
    found = [p for p in base.glob(f"{registry or '*'}/{profile or '*'}/verdicts.json") if p.is_file()]
    if not found:
        what = " ".join(f"{k} {v}" for k, v in (("registry", registry), ("profile", profile)) if v)
        hint = f"repro verify claims/{registry or '<name>'}.yaml" + (f" --profile {profile}" if profile else "")
        raise ReproError(f"no verdicts{' for ' + what if what else ''} under {base}; run `{hint}` first")
    # Newest by modification time; the path breaks ties so the choice never depends on glob order.
    return max(found, key=lambda p: (p.stat().st_mtime, str(p)))


def write_reports(verdicts: Path, out_dir: Path, formats: tuple[str, ...] = ("html",)) -> list[Path]:
    """Render ``verdicts`` as ``out_dir/<registry>-<profile>.<fmt>`` for each format; return the paths."""
    vf = VerdictsFile.load(verdicts)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ReproError(f"unknown report format {unknown[0]}; known: {', '.join(FORMATS)}")
    written = []
    for fmt in formats:
        if fmt == "html":
            from repro.report.html import render_html

            text = render_html(vf)
        else:
            from repro.report.markdown import render_markdown

            text = render_markdown(vf)
        path = Path(out_dir) / f"{file_part(vf.registry)}-{file_part(vf.profile)}.{fmt}"
        atomic_write_text(path, text)
        written.append(path)
    # The research question's opening figure as a file too (the Markdown report links it).
    q = build_content(vf).question
    if q is not None and q.lead is not None:
        from repro.report.plots import gain_curves_png

        png = gain_curves_png(q.lead.curves, q.lead.x_label, q.lead.y_label)
        if png is not None:
            path = Path(out_dir) / q.lead_file
            tmp = path.with_suffix(".png.tmp")
            tmp.write_bytes(png)
            tmp.replace(path)
            written.append(path)
    return written
