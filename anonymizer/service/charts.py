"""Server-rendered SVG charts for the statistics page: no script, no chart library, and
the figures stay readable with styles off (each bar has a title)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 64  # room for the axis and the labels
LEGEND_CHARACTER_WIDTH = 6.0  # of an 11 px sans-serif, a little generous


@dataclass(frozen=True)
class Series:
    key: str  # a field of the statistics' totals
    label: str
    colour: str


def stacked_bars(groups: dict[str, dict[str, int]], series: list[Series], title: str) -> str:
    """One stacked bar per group (a day, a modality), one segment per series."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = max([sum(totals.get(s.key, 0) for s in series) for totals in groups.values()] + [1])
    slot = plot_w / max(len(groups), 1)
    bar = min(48.0, slot * 0.7)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>',
             f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#555"/>',
             f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="11">{peak}</text>',
             f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" font-size="11">0</text>']
    for index, (name, totals) in enumerate(groups.items()):
        x = LEFT + index * slot + (slot - bar) / 2
        y = float(TOP + plot_h)
        for s in series:
            value = totals.get(s.key, 0)
            if value <= 0:
                continue
            height = plot_h * value / peak
            y -= height
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                         f'fill="{s.colour}" data-series="{escape(s.key)}">'
                         f'<title>{escape(name)}: {value} {escape(s.label)}</title></rect>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h + 14}" text-anchor="middle" '
                     f'font-size="11">{escape(name)}</text>')
    x = float(LEFT)
    for s in series:  # the legend in one row, each label as wide as its text
        parts.append(f'<rect x="{x:.1f}" y="{HEIGHT - 22}" width="10" height="10" fill="{s.colour}"/>'
                     f'<text x="{x + 14:.1f}" y="{HEIGHT - 13}" font-size="11">{escape(s.label)}</text>')
        x += 14 + LEGEND_CHARACTER_WIDTH * len(s.label) + 14
    parts.append("</svg>")
    return "".join(parts)


# What a file came to, as the charts stack it (a file counts in exactly one).
OUTCOMES = [
    Series("written", "written", "#2e7d32"),
    Series("released_after_review", "released after review", "#6a1b9a"),
    Series("held", "held for review", "#ef6c00"),
    Series("rejected", "rejected (not medical)", "#9e9e9e"),
    Series("failed", "failed or expired", "#c62828"),
]


def outcome_split(totals: dict[str, int]) -> dict[str, int]:
    """The totals as disjoint outcomes for a stacked bar."""
    failed = totals["failed_input"] + totals["failed_internal"] + totals["expired_unreviewed"]
    settled = totals["held"] + totals["released_after_review"] + totals["rejected"] + failed
    return {"written": totals["files"] - settled, "released_after_review": totals["released_after_review"],
            "held": totals["held"], "rejected": totals["rejected"], "failed": failed}
