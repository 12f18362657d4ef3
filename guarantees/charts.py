"""Charts as server-side SVG, written here in a few dozen lines rather than by a library: the report pages'
(``reporting.pages``) and the monthly statement's PDF (``guarantees.documents.renderer``) draw with the same code.

Pure: it takes labels and numbers and returns markup — no database, no request — so that the registry's documents
may draw the charts the reports show without importing the reports (which only read the registry).

Why no library: the pages must stay light on a slow link and work without JavaScript (so no Chart.js, ECharts or
Vega, which draw in the browser and weigh 100–900 kB), and the same markup must print and must go into
WeasyPrint's PDFs, which render SVG but run no script. Server-side Python libraries (matplotlib, pygal) would
add megabytes of dependencies, fonts and a second text pipeline for bars and lines this simple; pygal is barely
maintained. A chart here is inline SVG with a ``<title>`` and an ``aria-label``, every label escaped and already
translated by the caller, sized by its ``viewBox`` (it scales to any width, 360 px phones included), coloured by
CSS classes that the print style sheet turns into greys and hatching, and always next to the table of its figures.

Each element also carries its colour and size as presentation attributes (``PALETTE``, the pages' own colours):
WeasyPrint does not apply the document's style sheet inside an inline SVG, so without them a PDF would draw every
series black and fill the lines. On a page any CSS rule wins over a presentation attribute, so the pages' style
sheets (screen and print) still decide there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 76, 12, 14, 46
LEGEND_COLUMNS, LEGEND_ROW = 2, 24


# The colours of reports.css: a series' fill and stroke, and how its line is drawn (s3 dashed, told apart in grey).
PALETTE = {"s1": "#0d5a3a", "s2": "#a8561a", "s3": "#5a646e", "s4": "#a1262c", "s5": "#2f5f98", "s6": "#7a6a12"}
GRID = 'stroke="#d5dbe2" stroke-width="1"'
AXIS = 'font-size="14" fill="#5b6573"'
LEGEND = 'font-size="15" fill="#16202c"'


def _paint(style: str) -> str:
    colour = PALETTE.get(style, "#16202c")
    return f'fill="{colour}" stroke="{colour}"'


def _stroke(style: str) -> str:
    dashes = ' stroke-dasharray="6 4"' if style == "s3" else ""
    return f'fill="none" stroke="{PALETTE.get(style, "#16202c")}" stroke-width="2.5"{dashes}'


@dataclass(frozen=True)
class Series:
    name: str
    values: list
    style: str = "s1"  # a CSS class: s1 … s6


def _nice_max(value: float) -> float:
    """Four grid steps of a round size (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10ⁿ) reaching at least ``value``; never
    below 4, so that counts keep whole steps."""
    if value <= 4:
        return 4
    target = value / 4
    power = 1.0
    while power * 10 <= target:
        power *= 10
    while power > target:
        power /= 10
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * power >= target:
            return 4 * step * power
    return 40 * power


def has_values(series: list[Series]) -> bool:
    """Whether a chart would show anything: an empty chart is left out (the table says "nothing")."""
    return any(v for s in series for v in s.values)


def compact(value: float) -> str:
    """``12 500 000`` → ``12,5 M`` / ``12.5 M`` (the reader's decimal mark): axis labels stay short."""
    from django.utils import formats

    for size, unit in ((1_000_000_000, " G"), (1_000_000, " M"), (1_000, " k")):
        if abs(value) >= size:
            number = value / size
            return formats.number_format(round(number, 1), decimal_pos=0 if number == int(number) else 1) + unit
    return formats.number_format(round(value, 1), decimal_pos=0 if value == int(value) else 1)


def _frame(title: str, body: list[str], legend: list[Series], labels: list[str], ymax: float, fmt) -> SafeString:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + LEGEND_ROW * ((len(legend) + 1) // LEGEND_COLUMNS)}" '
        f'role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i in range(5):
        value = ymax * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line class="grid" {GRID} x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" {AXIS} x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{escape(fmt(value))}</text>')
    parts.extend(body)
    step = plot_w / max(len(labels), 1)
    every = max(1, -(-len(labels) // 7))  # at most 7 labels along the axis: they never run into each other
    last = len(labels) - 1
    for i, label in enumerate(labels):
        # The last label always, unless the one shown before it is too close (they would run into each other).
        if i % every == 0 and not (i != last and every > 1 and last - i < every) or i == last:
            x = LEFT + step * (i + 0.5)
            parts.append(f'<text class="axis" {AXIS} x="{x:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">'
                         f'{escape(label)}</text>')
    for i, series in enumerate(legend):
        x = LEFT + (i % LEGEND_COLUMNS) * 280
        y = HEIGHT + 4 + LEGEND_ROW * (i // LEGEND_COLUMNS)
        parts.append(f'<rect class="{series.style}" {_paint(series.style)} x="{x}" y="{y}" width="14" height="14"/>'
                     f'<text class="legend" {LEGEND} x="{x + 20}" y="{y + 12}">{escape(series.name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def bar_chart(*, title: str, labels: list[str], series: list[Series], fmt=compact) -> SafeString:
    """Grouped bars: one group per label, one bar per series."""
    ymax = _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels), 1)
    bar = step * 0.8 / max(len(series), 1)
    body = []
    for si, s in enumerate(series):
        for i, value in enumerate(s.values):
            h = plot_h * (value or 0) / ymax
            x = LEFT + step * i + step * 0.1 + bar * si
            body.append(f'<rect class="{s.style}" {_paint(s.style)} x="{x:.1f}" y="{TOP + plot_h - h:.1f}" '
                        f'width="{bar:.1f}" height="{h:.1f}"><title>{escape(labels[i])} — {escape(s.name)}: '
                        f'{escape(fmt(value or 0))}</title></rect>')
    return _frame(title, body, series, labels, ymax, fmt)


def line_chart(*, title: str, labels: list[str], series: list[Series], fmt=compact) -> SafeString:
    """One line per series (with a dot per point, so a single month still shows)."""
    ymax = _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels), 1)
    body = []
    for s in series:
        points = [(LEFT + step * (i + 0.5), TOP + plot_h - plot_h * (v or 0) / ymax) for i, v in enumerate(s.values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline class="line {s.style}" {_stroke(s.style)} points="{path}"/>')
        for (x, y), value, label in zip(points, s.values, labels):
            body.append(f'<circle class="{s.style}" {_paint(s.style)} cx="{x:.1f}" cy="{y:.1f}" r="3">'
                        f'<title>{escape(label)} — {escape(s.name)}: {escape(fmt(value or 0))}</title></circle>')
    return _frame(title, body, series, labels, ymax, fmt)
