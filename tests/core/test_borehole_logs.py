"""Strip logs, section and 3D view of clustered samples (two SYNTHETIC vertical holes with known layers)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoml_qgis.core.borehole.logs import section_figure, section_line, strip_log, strip_logs_pdf, view3d_figure
from geoml_qgis.core.errors import GeoMLError


def _frame():
    d = np.arange(0.5, 40, 1.0)
    rows = []
    for h, (x, y) in {"A": (0.0, 0.0), "B": (100.0, 100.0), "C": (200.0, 200.0)}.items():
        for depth in d:
            rows.append({"hole": h, "x": x, "y": y, "z": 50 - depth, "depth": depth, "Cu": 10 + depth,
                         "Zn": 100.0 / (1 + depth), "cluster": 1 + int(depth > 20)})
    return pd.DataFrame(rows)


def test_strip_log_draws_one_band_per_sample_and_element_curves():
    fig = strip_log(_frame(), "B", ["Cu", "Zn"])
    axes = fig.get_axes()
    assert len(axes) == 3 and len(axes[0].patches) == 40  # one cluster band per sample
    cu = axes[1].get_lines()[0].get_data()
    assert np.allclose(cu[0], 10 + cu[1]) and axes[0].yaxis_inverted()
    with pytest.raises(GeoMLError, match="'Q' has no samples"):
        strip_log(_frame(), "Q", ["Cu"])


def test_section_runs_through_the_collars_and_shows_every_hole(tmp_path):
    a, b = section_line(_frame())
    u = (b - a) / np.linalg.norm(b - a)
    assert np.isclose(abs(u @ np.array([1, 1]) / np.sqrt(2)), 1.0)  # the collars' line
    fig = section_figure(_frame())
    ax = fig.get_axes()[0]
    assert len(ax.get_lines()) == 3 and sum(len(c.get_offsets()) for c in ax.collections) == 120
    assert view3d_figure(_frame()).get_axes()[0].name == "3d"
    with pytest.raises(GeoMLError, match="not found"):
        section_line(_frame(), ["Z"])


def test_pdf_of_logs_has_a_page_per_hole(tmp_path):
    path = tmp_path / "logs.pdf"
    assert strip_logs_pdf(path, _frame(), ["Cu", "Zn"]) == 3
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") - data.count(b"/Type /Pages") == 3
    assert not list(tmp_path.glob(".*part*"))
    with pytest.raises(GeoMLError, match=".pdf"):
        strip_logs_pdf(tmp_path / "logs.png", _frame(), ["Cu"])
