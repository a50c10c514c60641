"""The Markdown report: the HTML report's content minus images (figures become small tables)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup

from repro import __version__
from repro.claims.verdicts import VerdictsFile
from repro.report import content

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")


def md_escape(value: Any) -> str:
    """Text that Markdown renders literally on one line: no HTML, links, emphasis or table breaks.

    HTML-significant characters become entities (Markdown renderers pass raw HTML through), the
    inline syntax characters (and ``$``, math on GitHub) get a backslash, and newlines become spaces so untrusted text can
    never start a heading, a list or a new table row.
    """
    text = content.fmt(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return re.sub(r"\s*[\r\n]+\s*", " ", text)


def _finalize(value: Any) -> Any:
    # Macro output is already-escaped Markdown (Markup under autoescape); everything else is data.
    return value if isinstance(value, Markup) else Markup(md_escape(value))


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # Autoescape on only so that macro output arrives as Markup; the escaping itself is _finalize's.
    env = content.environment(finalize=_finalize, keep_trailing_newline=True)
    env.globals.update(
        summary_rows=summary_rows,
        paper_vs_ours_rows=paper_vs_ours_rows,
        sweep_rows=sweep_rows,
        per_language_rows=per_language_rows,
    )
    return env


def summary_rows(c: content.ReportContent) -> list[list[str]]:
    """One row per claim: id, statement, verdict, deciding number, synthesis mark and confidence, decided by."""

    def conf(v: float | None) -> str:
        return content.MISSING if v is None else f"{v:.2f}"

    rows = []
    for cv in c.claims:
        cl = cv.claim
        syn = (
            content.MISSING
            if cl.synthesis is None
            else f"{'✓' if cl.synthesis.verified else '✗'} {conf(cl.synthesis.confidence)}"
        )
        rows.append([cl.id, cl.text, cl.verdict.value, content.deciding(cl), syn, cl.decided_by])
    return rows


def paper_vs_ours_rows(cv: content.ClaimView) -> list[list[str]]:
    return [
        [p.what, p.backbone or content.MISSING, p.where or content.MISSING, content.fmt(p.paper), p.ours, p.evaluation]
        for p in cv.paper_vs_ours
    ]


def sweep_rows(s: content.SweepTable, metrics: list[str]) -> list[list[str]]:
    return [[g, *(s.cells[g][m] for m in metrics)] for g in s.groups]


def per_language_rows(s: content.SweepTable) -> list[list[str]]:
    return [[m, *(s.cells[g][m] for g in s.groups)] for m in s.per_language]


def render_markdown(vf: VerdictsFile) -> str:
    """The whole report as Markdown."""
    text = _environment().get_template("report.md.j2").render(c=content.build_content(vf), version=__version__)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
