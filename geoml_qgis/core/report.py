"""Building blocks of the HTML reports: figures embedded as base64 PNG, one page layout.

Figures are drawn on matplotlib's Agg canvas without pyplot, so writing a report never
switches the global matplotlib backend nor touches pyplot's state (inside QGIS, other
plugins and the Python console may use matplotlib's Qt backend at the same time).
"""
from __future__ import annotations

import base64
import html
import io
from typing import Sequence

CSS = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse;font-size:13px}"
       "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}img{max-width:100%}")


def new_figure(width: float, height: float, dpi: int = 90):
    """An empty matplotlib ``Figure`` of *width* x *height* inches on an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def new_axes(width: float, height: float, nrows: int = 1, ncols: int = 1):
    """``(figure, axes)`` like ``pyplot.subplots(nrows, ncols, figsize=(width, height))``."""
    fig = new_figure(width, height)
    return fig, fig.subplots(nrows, ncols)


def figure_png(fig, dpi: int = 90) -> str:
    """The figure as base64-encoded PNG text."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def img_tag(fig, dpi: int = 90) -> str:
    """The figure as an ``<img>`` element with the PNG inline."""
    return f'<img src="data:image/png;base64,{figure_png(fig, dpi)}"/>'


def html_page(title: str, parts: Sequence[str], css: str = CSS) -> str:
    """A complete HTML document: *title* as heading, then *parts* (HTML snippets) in order."""
    t = html.escape(title)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{t}</title><style>{css}</style></head>"
            f"<body><h1>{t}</h1>{''.join(parts)}</body></html>")
