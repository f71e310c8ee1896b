"""Small bar charts as inline SVG for the health page: no script, no library, no CDN.

A chart is one `<svg>` of stacked bars, synced (green) below failed (red), each bar with
a `<title>` that a browser shows on hover, and an `aria-label` summing it up.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import formats
from django.utils.html import format_html, format_html_join

from .health import TrendBucket

SYNCED_COLOUR = "#2e7d32"
FAILED_COLOUR = "#c62828"
HEIGHT = 44
AXIS = 12  # room for the labels under the bars


def trend_chart(
    buckets: Sequence[TrendBucket],
    *,
    label: str,
    bucket_format: str,
    first: str,
    last: str,
    width: int = 240,
):
    """Stacked bars of `buckets`; `bucket_format` names each bar's time in its title,
    `first` and `last` label the axis."""
    count = max(1, len(buckets))
    step = width / count
    gap = 1 if step > 4 else 0
    peak = max((b.synced + b.failed for b in buckets), default=0)
    scale = (HEIGHT - 2) / peak if peak else 0
    bars = []
    for index, bucket in enumerate(buckets):
        x = round(index * step, 2)
        bar_width = round(step - gap, 2)
        synced_height = round(bucket.synced * scale, 2)
        failed_height = round(bucket.failed * scale, 2)
        when = formats.date_format(bucket.start, bucket_format)
        bars.append(
            (
                when,
                bucket.synced,
                bucket.failed,
                x,
                round(HEIGHT - synced_height, 2),
                bar_width,
                synced_height,
                SYNCED_COLOUR,
                x,
                round(HEIGHT - synced_height - failed_height, 2),
                bar_width,
                failed_height,
                FAILED_COLOUR,
            )
        )
    synced = sum(b.synced for b in buckets)
    failed = sum(b.failed for b in buckets)
    return format_html(
        '<svg class="trend-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        'width="{}" height="{}" viewBox="0 0 {} {}" aria-label="{}: {} synced, {} failed">'
        '<line x1="0" y1="{}" x2="{}" y2="{}" class="trend-axis" stroke="currentColor" '
        'stroke-opacity="0.3"/>{}'
        '<text x="0" y="{}" class="trend-label" font-size="9" fill="currentColor">{}</text>'
        '<text x="{}" y="{}" class="trend-label" font-size="9" fill="currentColor" '
        'text-anchor="end">{}</text></svg>',
        width,
        HEIGHT + AXIS,
        width,
        HEIGHT + AXIS,
        label,
        synced,
        failed,
        HEIGHT + 0.5,
        width,
        HEIGHT + 0.5,
        format_html_join(
            "",
            '<g class="trend-bar"><title>{}: {} synced, {} failed</title>'
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/></g>',
            bars,
        ),
        HEIGHT + AXIS - 1,
        first,
        width,
        HEIGHT + AXIS - 1,
        last,
    )
