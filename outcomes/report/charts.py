"""The report's charts as inline SVG (no script, no font fetched): a line chart of
ratios against their 100% / 80% guides and a bar chart of value against cost."""

from __future__ import annotations

from html import escape
from typing import Final

WIDTH, HEIGHT, PAD = 460, 170, 34

COLOURS: Final = {
    "off_target": "#c4162a",
    "at_risk": "#e0752d",
    "insufficient_data": "#6e6e6e",
    "met": "#1a7f37",
    "unscoped": "#4a6fa5",
    "not_observed": "#b0b0b0",
}
LINE_COLOURS: Final = ("#1f60c4", "#8f3bb8", "#e0752d", "#37872d", "#c4162a")


def _x(index: int, count: int) -> float:
    inner = WIDTH - 2 * PAD
    return PAD + (inner / 2 if count == 1 else inner * index / (count - 1))


def _axis(labels: list[str], top: float, bottom: float, fmt: str) -> str:
    parts = [
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}"'
        ' stroke="#999"/>'
    ]
    for index, label in enumerate(labels):
        parts.append(
            f'<text x="{_x(index, len(labels)):.1f}" y="{HEIGHT - PAD + 14}" font-size="10"'
            f' text-anchor="middle">{escape(label)}</text>'
        )
    parts.append(f'<text x="2" y="{PAD - 6}" font-size="10">{format(top, fmt)}</text>')
    parts.append(f'<text x="2" y="{HEIGHT - PAD}" font-size="10">{format(bottom, fmt)}</text>')
    return "".join(parts)


def _y(value: float, low: float, high: float) -> float:
    span = high - low or 1.0
    return HEIGHT - PAD - (value - low) / span * (HEIGHT - 2 * PAD)


def line_chart(labels: list[str], series: dict[str, list[float | None]]) -> str:
    values = [v for points in series.values() for v in points if v is not None]
    high = max([1.2, *values])
    low = min([0.0, *values])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT + 18}"'
        f' viewBox="0 0 {WIDTH} {HEIGHT + 18}" role="img">',
        _axis(labels, high, low, ".1f"),
    ]
    for level, colour in ((1.0, COLOURS["met"]), (0.8, COLOURS["at_risk"])):
        y = _y(level, low, high)
        parts.append(
            f'<line x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - PAD}" y2="{y:.1f}" stroke="{colour}"'
            ' stroke-dasharray="4 3"/>'
        )
    legend = []
    for number, (name, points) in enumerate(sorted(series.items())):
        colour = LINE_COLOURS[number % len(LINE_COLOURS)]
        xy = [(_x(i, len(points)), _y(v, low, high)) for i, v in enumerate(points) if v is not None]
        if len(xy) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>'
            )
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in xy]
        legend.append(
            f'<text x="{PAD + number * 90}" y="{HEIGHT + 12}" font-size="11" fill="{colour}">'
            f"{escape(name)}</text>"
        )
    parts += legend
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(labels: list[str], value: list[float], cost: list[float]) -> str:
    high = max([1.0, *value, *cost])
    low = min([0.0, *value, *cost])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT + 18}"'
        f' viewBox="0 0 {WIDTH} {HEIGHT + 18}" role="img">',
        _axis(labels, high, low, ",.0f"),
    ]
    slot = (WIDTH - 2 * PAD) / max(1, len(labels))
    bar = min(24.0, slot / 3)
    zero = _y(0.0, low, high)
    for index in range(len(labels)):
        centre = _x(index, len(labels))
        for offset, amount, colour in (
            (-bar, value[index], "#1f60c4"),
            (0.0, cost[index], "#c4162a"),
        ):
            y = _y(amount, low, high)
            top, height = min(y, zero), abs(zero - y)
            parts.append(
                f'<rect x="{centre + offset:.1f}" y="{top:.1f}" width="{bar:.1f}"'
                f' height="{height:.1f}" fill="{colour}"/>'
            )
    parts.append(f'<text x="{PAD}" y="{HEIGHT + 12}" font-size="11" fill="#1f60c4">value</text>')
    parts.append(
        f'<text x="{PAD + 60}" y="{HEIGHT + 12}" font-size="11" fill="#c4162a">cost</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
