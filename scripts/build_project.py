"""The demo's project, maps and index page, made from the files each demo step wrote."""
from __future__ import annotations

import html
import os
from pathlib import Path

from qgis.core import QgsApplication

ROOT = Path(__file__).resolve().parents[1]


def publish(out: Path, groups: dict[str, list[Path]], rows: list[tuple]) -> list[tuple]:
    """Write ``geoml_demo.qgz``, one PNG map per group and ``index.html`` into *out*.

    Returns summary rows for the demo's table.
    """
    from geoml_qgis.mapping import build_project, render_group_maps

    app = QgsApplication([], False)
    app.initQgis()
    project_path = out / "geoml_demo.qgz"
    project = build_project(groups, project_path)
    maps = render_group_maps(project, out)
    n_layers = len(project.mapLayers())
    index = out / "index.html"
    _write_index(index, maps, sorted(out.glob("*.html")), rows)
    return [("QGIS project", f"{n_layers} styled layers in {len(project.layerTreeRoot().children())} groups", os.path.relpath(project_path, ROOT)),
            ("maps and index", f"{len(maps)} PNG maps", os.path.relpath(index, ROOT))]


def _write_index(path: Path, maps: list[Path], reports: list[Path], rows: list[tuple]) -> None:
    figures = "".join(  # the group maps, then figures a step saved as figure_*.png
        f'<figure><img src="{m.name}" alt="{html.escape(m.stem)}"><figcaption>{html.escape(m.stem)}</figcaption></figure>'
        for m in list(maps) + sorted(path.parent.glob("figure_*.png"))
    )
    links = "".join(f'<li><a href="{r.name}">{html.escape(r.stem.replace("_", " "))}</a></li>'
                    for r in reports if r.name != path.name)
    table = "".join(
        f"<tr><td>{html.escape(s)}</td><td>{html.escape(f)}</td><td>{html.escape(p)}</td></tr>" for s, f, p in rows
    )
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>GeoML demo</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:1200px}img{max-width:100%;border:1px solid #ccc}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}</style></head><body>"
        "<h1>GeoML for QGIS — demo</h1><p>Open <code>geoml_demo.qgz</code> in QGIS to explore every output.</p>"
        f"<h2>Key figures</h2><table><tr><th>step</th><th>figure</th><th>file</th></tr>{table}</table>"
        f"<h2>Reports</h2><ul>{links}</ul><h2>Maps</h2>{figures}</body></html>",
        encoding="utf-8",
    )
