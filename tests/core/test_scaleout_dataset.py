"""Training arrays for scale-out runs: labelled rows, background pixels (synthetic rasters, known answers)."""
from __future__ import annotations

import numpy as np
import pytest

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.io.raster import RasterStack
from geoml_qgis.core.prospectivity.sampling import random_pixels
from geoml_qgis.core.scaleout.dataset import labelled_arrays, subsample_rows


def test_labelled_arrays_keep_complete_labelled_rows():
    x = np.array([[1, 2], [3, np.nan], [5, 6], [7, 8], [9, 10], [11, 12]], float)
    y = np.array([1, 1, np.nan, 0, 1, 0])
    data, dropped = labelled_arrays(x, y)
    assert dropped == 1  # row 2 (labelled, missing feature); row 3 is unlabelled, not "dropped"
    assert data["X"].tolist() == [[1, 2], [7, 8], [9, 10], [11, 12]] and data["y"].tolist() == [1, 0, 1, 0]
    with pytest.raises(GeoMLError, match="1 \\(deposit\\) or 0"):
        labelled_arrays(x, np.array([1, 2, 0, 0, 1, 0]))
    with pytest.raises(GeoMLError, match="at least 2 deposits"):
        labelled_arrays(x, np.array([1, 0, 0, 0, 0, 0]))


def test_subsample_rows_is_seeded_and_drops_incomplete_rows():
    rows = np.arange(40, dtype=float).reshape(20, 2)
    rows[3, 1] = np.nan
    a, b = subsample_rows(rows, 5, seed=1), subsample_rows(rows, 5, seed=1)
    assert a.shape == (5, 2) and np.array_equal(a, b)
    assert len(subsample_rows(rows, 100, seed=1)) == 19


def test_background_pixels_are_valid_cells_of_the_stack(write_raster):
    band1 = np.arange(100, dtype=np.float32).reshape(10, 10)
    band2 = 1000 + band1
    band1[:, :5] = -9999  # left half nodata
    path = write_raster(np.stack([band1, band2]), nodata=-9999)
    with RasterStack([path]) as stack:
        bg = random_pixels(stack, 30, seed=0, allow_fewer=True)[1]
        few = random_pixels(stack, 80, seed=0, allow_fewer=True)[1]
    assert bg.shape == (30, 2) and few.shape == (50, 2)  # all 50 valid cells when more are asked for
    assert np.all(bg[:, 1] == bg[:, 0] + 1000)  # both bands of the same cell
    assert np.all(bg[:, 0] % 10 >= 5)  # only the valid right half
    assert len(np.unique(bg[:, 0])) == 30  # distinct cells (50 are valid)
