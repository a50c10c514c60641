"""Draw a check's :class:`~repro.checks.base.Figure` as a PNG for embedding in the HTML report, and the
research question's gain-vs-alpha curves per resource class (:class:`~repro.checks.trend.GainCurve`) with
their intervals.

PNG rather than inline SVG: a raster image cannot carry markup, so a hostile series name or axis
label drawn into it is inert whatever it contains. The figure's title goes in the HTML caption.
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Sequence
from typing import Any

from repro.checks.base import Figure
from repro.checks.trend import GainCurve

_LINESTYLES = ("-", "--", ":", "-.")


def figure_data_uri(fig: Figure) -> str | None:
    """``data:image/png;base64,...`` of the drawn figure, or None when it has nothing to draw."""
    png = figure_png(fig)
    return None if png is None else "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def figure_png(fig: Figure, dpi: int = 100) -> bytes | None:
    """The figure as PNG bytes (None when there is no x or no series)."""
    if not fig.x or not fig.series:
        return None
    # The object-oriented API with the Agg canvas: no pyplot global state, no GUI backend.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    many = len(fig.series) > 6
    # A legend beside the axes, in columns of at most 16 entries: one column of 35 languages would
    # be taller than the figure and squeeze the axes to nothing.
    columns = -(-len(fig.series) // 16) if many else 1
    mfig = MplFigure(figsize=(6.4 + 1.8 * columns if many else 6.4, 3.8), layout="constrained")
    FigureCanvasAgg(mfig)
    ax = mfig.add_subplot()
    if fig.kind == "bars":
        _bars(ax, fig)
    else:
        _lines(ax, fig)
    ax.set_xlabel(_plain(fig.x_label))
    ax.set_ylabel(_plain(fig.y_label))
    ax.grid(True, alpha=0.3)
    if len(fig.series) > 1:
        ax.legend(
            fontsize=7 if many else 8,
            loc="upper left" if many else "best",
            bbox_to_anchor=(1.01, 1.0) if many else None,
            frameon=False,
            ncols=columns,
        )
    buf = io.BytesIO()
    mfig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _plain(text: Any) -> str:
    """Text that matplotlib draws literally: no mathtext (``$...$`` would be parsed, and can fail)."""
    text = str(text).replace("$", r"\$")
    # A label starting with "_" is hidden from legends by matplotlib.
    return " " + text if text.startswith("_") else text


def _number(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _numeric_x(xs: list[Any]) -> bool:
    return all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)


def _lines(ax: Any, fig: Figure) -> None:
    numeric = _numeric_x(fig.x)
    xs = [float(x) for x in fig.x] if numeric else list(range(len(fig.x)))
    # Series named "name (group)" share a line style per group, so groups read apart at a glance.
    groups: list[str] = []
    import matplotlib

    colours = matplotlib.colormaps["tab20" if len(fig.series) > 10 else "tab10"]
    for i, (name, values) in enumerate(fig.series.items()):
        m = re.search(r"\(([^()]*)\)\s*$", name)
        group = m.group(1) if m else ""
        if group not in groups:
            groups.append(group)
        ys = [_number(values[j]) if j < len(values) else math.nan for j in range(len(xs))]
        ax.plot(
            xs,
            ys,
            marker="o",
            markersize=3,
            linewidth=1.4,
            color=colours(i % colours.N),
            linestyle=_LINESTYLES[groups.index(group) % len(_LINESTYLES)],
            label=_plain(name),
        )
    if not numeric:
        ax.set_xticks(xs, [_plain(x) for x in fig.x], rotation=30 if len(fig.x) > 6 else 0)


def _bars(ax: Any, fig: Figure) -> None:
    n = len(fig.series)
    width = 0.8 / n
    positions = list(range(len(fig.x)))
    for i, (name, values) in enumerate(fig.series.items()):
        ys = [_number(values[j]) if j < len(values) else math.nan for j in positions]
        ax.bar(
            [p - 0.4 + width * (i + 0.5) for p in positions],
            [0.0 if math.isnan(y) else y for y in ys],
            width=width,
            label=_plain(name),
        )
    ax.set_xticks(positions, [_plain(x) for x in fig.x], rotation=30 if len(fig.x) > 5 else 0)
    ax.axhline(0.0, color="black", linewidth=0.6)


# One colour per Joshi class (0 = the Left-Behinds ... 5 = the Winners), the same in every panel.
_CLASS_COLOURS = ("#7b3294", "#c2a5cf", "#e08214", "#5aae61", "#2166ac", "#053061")


def curve_points(curve: GainCurve) -> list[tuple[float, float, float, float]]:
    """``(x, gain, low, high)`` of a curve in x order, the reference's gain of 0 (no interval) included."""
    points = [(p.x, p.observed, p.low, p.high) for p in curve.points]
    if not any(math.isclose(x, curve.reference) for x, *_ in points):
        points.append((curve.reference, 0.0, 0.0, 0.0))
    return sorted(points)


def gain_curves_png(curves: Sequence[GainCurve], x_label: str, y_label: str, dpi: int = 100) -> bytes | None:
    """Gain vs x per Joshi class with 95% bands, seen and unseen languages in two panels; None without points.

    Each class is a coloured line with its interval shaded; the low- and high-resource groups of
    the panel are black dashed and grey dash-dotted lines (their intervals are in the table beside).
    """
    panels = [(seen, [c for c in curves if c.seen is seen and c.points]) for seen in (True, False)]
    panels = [(seen, cs) for seen, cs in panels if cs]
    if not panels:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    mfig = MplFigure(figsize=(5.2 * len(panels) + 1.6, 3.9), layout="constrained")
    FigureCanvasAgg(mfig)
    axes = mfig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    for ax, (seen, cs) in zip(axes, panels):
        for c in cs:
            xs, ys, lows, highs = zip(*curve_points(c))
            label = f"{c.name.split(',')[0]} ({len(c.langs)} lang{'s' if len(c.langs) != 1 else ''})"
            if c.by == "class" and c.joshi_class is not None:
                colour = _CLASS_COLOURS[c.joshi_class % len(_CLASS_COLOURS)]
                ax.plot(xs, ys, marker="o", markersize=3.5, linewidth=1.5, color=colour, label=_plain(label))
                ax.fill_between(xs, lows, highs, color=colour, alpha=0.15, linewidth=0)
            else:
                style = ("--", "black") if c.resource == "low" else ("-.", "grey")
                ax.plot(xs, ys, linestyle=style[0], color=style[1], linewidth=1.8, label=_plain(label))
        ax.axhline(0.0, color="black", linewidth=0.6)
        ax.set_title(_plain("languages seen in training" if seen else "languages unseen in training"), fontsize=10)
        ax.set_xlabel(_plain(x_label))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best", frameon=False)
    axes[0].set_ylabel(_plain(y_label))
    buf = io.BytesIO()
    mfig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def gain_curves_data_uri(curves: Sequence[GainCurve], x_label: str, y_label: str) -> str | None:
    """``data:image/png;base64,...`` of :func:`gain_curves_png`, or None when there is nothing to draw."""
    png = gain_curves_png(curves, x_label, y_label)
    return None if png is None else "data:image/png;base64," + base64.b64encode(png).decode("ascii")
