"""The HTML report: one self-contained file (inline CSS, figures as inline PNG, no scripts, no network)."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from repro import __version__
from repro.claims.verdicts import VerdictsFile
from repro.report import content
from repro.report.plots import figure_data_uri, gain_curves_data_uri


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # Autoescape everything: claim text, quotes, headlines and table cells come from PDFs and checks.
    env = content.environment()
    env.filters.update(figure_src=figure_data_uri, curves_src=_curves_src)
    env.globals.update(
        check_css=content.check_css,
        details_json=content.details_json,
        anchor=content.anchor,
        verdict_css=content.verdict_css,
    )
    return env


def _curves_src(panel: content.CurvePanel) -> str | None:
    return gain_curves_data_uri(panel.curves, panel.x_label, panel.y_label)


def render_html(vf: VerdictsFile) -> str:
    """The whole report as one HTML document."""
    return _environment().get_template("report.html.j2").render(c=content.build_content(vf), version=__version__)
