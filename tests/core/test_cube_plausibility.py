"""Cube plausibility: a header with the wrong byte order or interleave is refused, not classified as noise.

Uses the repository's synthetic SWIR cube (USGS splib07 mixtures, see sample_data) with its header altered.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.hyperspectral.cube import Cube
from geoml_qgis.core.hyperspectral.plausibility import check_plausible

HS = Path(__file__).resolve().parents[2] / "geoml_qgis" / "sample_data" / "hyperspectral"


def _copy(tmp_path, **changes):
    shutil.copy(HS / "synthetic_swir_cube.bil", tmp_path / "c.bil")
    text = (HS / "synthetic_swir_cube.hdr").read_text()
    for key, value in changes.items():
        old = next(line for line in text.splitlines() if line.startswith(key.replace("_", " ") + " ="))
        text = text.replace(old, f"{key.replace('_', ' ')} = {value}")
    (tmp_path / "c.hdr").write_text(text)
    return tmp_path / "c.bil"


def test_the_real_layout_passes(tmp_path):
    figures = check_plausible(Cube(_copy(tmp_path), check=False))
    assert figures["roughness"] < 0.3 and figures["decorrelation"] < 0.01 and figures["max_abs"] < 2


def test_wrong_byte_order_is_refused(tmp_path):
    with pytest.raises(GeoMLError, match="wrong byte order.*plausibly with .interleave = bil. and .byte order = 0"):
        Cube(_copy(tmp_path, byte_order=1))


@pytest.mark.parametrize("interleave", ["bsq", "bip"])
def test_wrong_interleave_is_refused(tmp_path, interleave):
    with pytest.raises(GeoMLError, match=f"interleave = {interleave}.*does not match.*plausibly with .interleave = bil. and .byte order = 0"):
        Cube(_copy(tmp_path, interleave=interleave))


def test_scaled_reflectance_is_warned(tmp_path, caplog):
    p = _copy(tmp_path)
    data = np.fromfile(p, "<f4") * 10000
    data.astype("<f4").tofile(p)
    with caplog.at_level(logging.WARNING, logger="geoml_qgis"):
        Cube(p)
    assert "scale factor" in caplog.text


def _wide(tmp_path, interleave="bil"):
    """The sample cube tiled 7 times across (700 columns, BIL), its header saying *interleave*."""
    data = np.fromfile(HS / "synthetic_swir_cube.bil", "<f4").reshape(100, 99, 100)  # (rows, bands, columns)
    np.tile(data, (1, 1, 7)).tofile(tmp_path / "w.bil")
    text = (HS / "synthetic_swir_cube.hdr").read_text().replace("samples = 100", "samples = 700")
    (tmp_path / "w.hdr").write_text(text.replace("interleave = bil", f"interleave = {interleave}"))
    return tmp_path / "w.bil"


def test_wide_cubes_are_sampled_and_still_checked(tmp_path):
    """Beyond 500 columns the check samples evenly spaced pixels of each row: the same verdicts."""
    from geoml_qgis.core.hyperspectral.plausibility import sample_pixels

    cube = Cube(_wide(tmp_path), check=False)
    assert len(sample_pixels(cube)) == 12 * 350
    figures = check_plausible(cube)
    assert figures["roughness"] < 0.3 and figures["decorrelation"] < 0.01
    with pytest.raises(GeoMLError, match="interleave = bsq.*does not match.*plausibly with .interleave = bil."):
        Cube(_wide(tmp_path, "bsq"))
