"""Covariates matched by name, not position (predicthybrid took them in any order, up to 614 ppm off)."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.io.matching import order_by_name, value_ranges, warn_outside_range


@pytest.fixture
def rasters(write_raster):
    a = write_raster(np.arange(16.0).reshape(4, 4), name="dem.tif")
    b = write_raster(np.ones((4, 4)) * 3, name="slope.tif")
    c = write_raster(np.ones((4, 4)) * 3, name="dist.tif")
    return a, b, c


def test_same_order_passes_and_swapped_order_is_matched(rasters, caplog):
    a, b, _ = rasters
    assert order_by_name(["dem", "slope"], [a, b]) == [a, b]
    with caplog.at_level(logging.WARNING, logger="geoml_qgis"):
        assert order_by_name(["dem", "slope"], [b, a]) == [a, b]
    assert "another order" in caplog.text


def test_other_rasters_are_refused_naming_them(rasters):
    a, _, c = rasters
    with pytest.raises(GeoMLError, match=r"missing: slope; not in the model: dist"):
        order_by_name(["dem", "slope"], [a, c])
    with pytest.raises(GeoMLError, match=r"missing: slope"):
        order_by_name(["dem", "slope"], [a])


def test_values_far_outside_training_range_are_warned(rasters, caplog):
    a, b, _ = rasters
    trained = value_ranges(np.array([[0.0, 0.003], [15.0, 0.004]]))  # slope given as a fraction at training
    with caplog.at_level(logging.WARNING, logger="geoml_qgis"):
        assert warn_outside_range(["dem", "slope"], trained, [a, b]) == ["slope"]
    assert "slope.tif" in caplog.text and "other units" in caplog.text
