"""Line charts as inline SVG text, so a bench page draws its curves without matplotlib or the network."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

# Okabe & Ito's colour-blind-safe eight, then four of Paul Tol's; a variant keeps its colour in every chart of a page.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#f0e442", "#000000",
           "#882255", "#44aa99", "#999933", "#aa4499")
WIDTH, HEIGHT = 460, 290
LEFT, RIGHT, TOP, BOTTOM = 62, 12, 12, 44


@dataclass
class Series:
    """One line: (x, y) points in order; a point whose y is NaN breaks the line."""

    label: str
    color: str
    points: list[tuple[float, float]] = field(default_factory=list)
    dashed: bool = False


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        low, high = low - (abs(low) or 1) * 0.5, high + (abs(high) or 1) * 0.5
    raw = (high - low) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def _label(value: float) -> str:
    return f"{value:.4g}"


def line_chart(series: list[Series], x_label: str, y_label: str) -> str:
    """An SVG element (no xmlns: it is meant to sit inside an HTML page) with axes, ticks and one
    polyline per series; every point carries a <title> with its values for hovering."""
    finite = [(x, y) for s in series for x, y in s.points if math.isfinite(x) and math.isfinite(y)]
    if not finite:
        return f'<p class="empty">no finite {escape(y_label)} values to plot</p>'
    xs = nice_ticks(min(0.0, min(x for x, _ in finite)), max(x for x, _ in finite))
    ys = nice_ticks(min(y for _, y in finite), max(y for _, y in finite))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - xs[0]) / (xs[-1] - xs[0]) * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - (y - ys[0]) / (ys[-1] - ys[0]) * plot_h

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
             f'aria-label="{escape(y_label)} against {escape(x_label)}">']
    for y in ys:
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py(y):.1f}" y2="{py(y):.1f}"/>'
                     f'<text class="tick" x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{_label(y)}</text>')
    for x in xs:
        parts.append(f'<line class="grid" x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{TOP}" y2="{TOP + plot_h}"/>'
                     f'<text class="tick" x="{px(x):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{_label(x)}</text>')
    parts.append(f'<text class="axis" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle">{escape(x_label)}</text>'
                 f'<text class="axis" transform="translate(14 {TOP + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">{escape(y_label)}</text>')
    for s in series:
        parts.append(_series(s, px, py, x_label, y_label))
    parts.append("</svg>")
    return "".join(parts)


def _series(s: Series, px, py, x_label: str, y_label: str) -> str:
    dash = ' stroke-dasharray="5 3"' if s.dashed else ""
    out, run = [f'<g class="series" data-label="{escape(s.label)}">'], []
    for x, y in [*s.points, (math.nan, math.nan)]:  # the sentinel flushes the last run of finite points
        if math.isfinite(x) and math.isfinite(y):
            run.append(f"{px(x):.1f},{py(y):.1f}")
            continue
        if len(run) > 1:
            out.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{s.color}" stroke-width="1.6"{dash}/>')
        run = []
    for x, y in s.points:
        if math.isfinite(x) and math.isfinite(y):
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{s.color}"><title>{escape(s.label)}: '
                       f'{escape(y_label)} {_label(y)} at {escape(x_label)} {_label(x)}</title></circle>')
    out.append("</g>")
    return "".join(out)
