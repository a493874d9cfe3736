"""Charts as server-made SVG: no script, no library, readable without colour (labels and titles)."""

from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape

from gateway.deliver.windows import LOCAL

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 180, 48, 28, 12


def bars(title: str, starts: list[datetime], values: Sequence[float | None], colour: str, unit: str = "",
         label_format: str = "%H:%M") -> str:
    """A bar chart with a title, a y scale and a few time labels (local time); each bar has a tooltip."""
    peak = max([v for v in values if v is not None] or [0]) or 1
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_w / max(1, len(values))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>',
             f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 8}" y2="{TOP + plot_h}" stroke="#555"/>',
             f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="11" fill="#222">{_num(peak)}{unit}</text>',
             f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" font-size="11" fill="#222">0</text>']
    for i, (start, value) in enumerate(zip(starts, values)):
        x = LEFT + i * step
        if value:
            h = max(1.0, plot_h * value / peak)
            parts.append(f'<rect x="{x + 1:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(1.0, step - 2):.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>{start.astimezone(LOCAL):%d/%m %H:%M}: '
                         f'{_num(value)}{unit}</title></rect>')
        if i % max(1, len(values) // 6) == 0:
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 8}" font-size="11" fill="#222">'
                         f'{start.astimezone(LOCAL).strftime(label_format)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _num(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".") if value >= 10 or value == int(value) else f"{value:.1f}"
