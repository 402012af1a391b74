"""Small bar charts as inline SVG, drawn on the server: no JavaScript, no CDN, printable."""
from __future__ import annotations

from markupsafe import Markup, escape

from server.i18n import number


def bar_chart(labels: list, values: list[float | None], *, title: str, unit: str = "",
              norms: list[float | None] | None = None, width: int = 640, height: int = 220) -> Markup:
    """Vertical bars with their values on top; ``norms`` draws a dashed norm line per bar
    and colours a bar over its norm red."""
    n = max(1, len(values))
    top, bottom, left, right = 44, 34, 8, 8
    plot_h = height - top - bottom
    highest = max([v or 0 for v in values] + [x or 0 for x in (norms or [])] + [1e-9])
    slot = (width - left - right) / n
    bar_w = max(4.0, slot * 0.64)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
             f'width="100%" role="img" aria-label="{escape(title)}">',
             f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" class="axis"/>']
    for i, (label, value) in enumerate(zip(labels, values)):
        x = left + i * slot + (slot - bar_w) / 2
        norm = norms[i] if norms else None
        v = value or 0
        h = plot_h * v / highest
        over = norm is not None and value is not None and value > norm
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                     f'class="bar{" over" if over else ""}"><title>{escape(label)}: {_num(value)} {escape(unit)}'
                     f'</title></rect>')
        if value is not None:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 4:.1f}" class="val">'
                         f'{_num(value)}</text>')
        if norm is not None:
            y = top + plot_h - plot_h * norm / highest
            parts.append(f'<line x1="{x - 3:.1f}" y1="{y:.1f}" x2="{x + bar_w + 3:.1f}" y2="{y:.1f}" class="norm"/>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" class="lbl">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _num(v: float | None) -> str:
    return number(v)
