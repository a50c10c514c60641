"""Draw a check's :class:`~repro.checks.base.Figure` as a PNG for embedding in the HTML report.

PNG rather than inline SVG: a raster image cannot carry markup, so a hostile series name or axis
label drawn into it is inert whatever it contains. The figure's title goes in the HTML caption.
"""

from __future__ import annotations

import base64
import io
import math
import re
from typing import Any

from repro.checks.base import Figure

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
    mfig = MplFigure(figsize=(8.2 if many else 6.4, 3.8), layout="constrained")
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
