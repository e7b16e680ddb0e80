"""Silent wrong results of bad data, in the core: assay codes, overlapping intervals, encodings,
probability ranges, continuous class labels (each case failed before the fix).

Synthetic tables and rasters with known answers.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from geoml_qgis.core.borehole.assays import clean_assays, intervals_to_positions
from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.io import Grid
from geoml_qgis.core.prospectivity.riskreturn import rank_targets
from tests.core.target_rasters import bump, target_raster


def test_missing_value_codes_are_missing_not_detection_limits():
    # -999 was read as "below 999" and replaced by 499.5 ppm, above every real value
    df = pd.DataFrame({"Cu": [12.0, -999, 30.0, -9999, "-99", 5.0, "IS", -0.02], "Zn": [1, 2, 3, 4, 5, 6, 7, 8]})
    values, kept, log = clean_assays(df, ["Cu", "Zn"], missing_values=(-9999, -999, -99, "IS"))
    assert kept.tolist() == [True, False, True, False, False, True, False, True]
    assert np.allclose(values["Cu"], [12.0, 30.0, 5.0, 0.01]) and values["Cu"].max() == 30.0
    row = log.counts.set_index("element").loc["Cu"]
    assert (row.missing_code, row.negative_flag) == (4, 1)
    assert any("4 missing-value code(s)" in m for m in log.messages)


def test_default_codes_and_negative_conventions():
    df = pd.DataFrame({"Cu": [12.0, -999.0, 30.0, -0.5], "Zn": [1, 2, 3, 4]})
    values, kept, _ = clean_assays(df, ["Cu", "Zn"])  # -9999/-999/-99 by default
    assert kept.tolist() == [True, False, True, True] and np.allclose(values["Cu"], [12.0, 30.0, 0.25])
    values, kept, log = clean_assays(df, ["Cu", "Zn"], negative="missing")
    assert kept.tolist() == [True, False, True, False] and log.counts.loc[0, "negative_missing"] == 1
    with pytest.raises(GeoMLError, match=r"negative values \(-0.5 in row 4\)"):
        clean_assays(df, ["Cu", "Zn"], negative="error")


def test_negative_larger_than_every_value_is_not_a_detection_limit():
    df = pd.DataFrame({"Cu": [12.0, -500.0, 30.0], "Zn": [1, 2, 3]})
    with pytest.raises(GeoMLError, match=r"-500.0 \(row 2\).*above every measured value.*missing-value code"):
        clean_assays(df, ["Cu", "Zn"])


def test_not_analysed_text_gets_missing_value_advice():
    df = pd.DataFrame({"Cu": [1.0, 2.0, "n.a."], "Zn": [1, 2, 3]})
    with pytest.raises(GeoMLError, match="means 'not analysed'.*missing-value codes"):
        clean_assays(df, ["Cu", "Zn"])


def test_overlapping_intervals_are_warned(caplog):


    collars = pd.DataFrame({"hole": ["A", "B"], "x": [0.0, 5.0], "y": [0.0, 0.0], "z": [0.0, 0.0],
                            "azimuth": [0.0, 0.0], "dip": [-90.0, -90.0]})
    holes = np.array(["A", "A", "A", "B"])
    with caplog.at_level(logging.WARNING, logger="geoml_qgis"):
        intervals_to_positions(holes, np.array([0.0, 2.0, 3.0, 0.0]), np.array([2.0, 4.0, 5.0, 1.0]), collars)
    assert "1 interval(s) overlap" in caplog.text and "hole 'A', 2-4 and 3-5" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="geoml_qgis"):
        intervals_to_positions(holes, np.array([0.0, 2.0, 4.0, 0.0]), np.array([2.0, 4.0, 5.0, 1.0]), collars)
    assert "overlap" not in caplog.text


def test_latin1_csv_names_survive(tmp_path, caplog):

    from geoml_qgis.core.io.vector import read_table, text_encoding

    p = tmp_path / "holes.csv"
    p.write_bytes("hole;Cu\nSéverin-1;1.5\nSeverin-1;2.5\n".encode("cp1252"))
    with caplog.at_level(logging.WARNING, logger="geoml_qgis"):
        df = read_table(p)
    assert df["hole"].tolist() == ["Séverin-1", "Severin-1"] and "Windows-1252" in caplog.text
    u = tmp_path / "u.csv"
    u.write_text("hole,Cu\nSéverin-1,1.5\n", encoding="utf-8")
    assert text_encoding(u) == ("utf-8", "") and read_table(u)["hole"].tolist() == ["Séverin-1"]


@pytest.mark.parametrize("scale, match", [(3000.0, r"p.tif. holds 1\d{3}"), (100.0, "percentage"), (-1.0, "outside 0 to 1")])
def test_probability_outside_unit_interval_is_refused(tmp_path, scale, match):
    # a "probability" raster of 3000 made 100 % of the area "high return, low risk"
    p = np.abs(0.05 + bump(150, 450, 30, 0.6)) * scale
    u = 0.02 + bump(600, 150, 40, 0.4)
    cats = tmp_path / "cat.tif"
    cats.write_bytes(b"existing")
    with pytest.raises(GeoMLError, match=match):
        rank_targets(target_raster(tmp_path / "p.tif", p), target_raster(tmp_path / "u.tif", u), 1.0, 5.0, 0.9, 2, 200.0, cats)
    assert cats.read_bytes() == b"existing"


@pytest.mark.parametrize("labels, ok", [
    (np.array([1.0, 2.0, 1.0, 3.0]), True), (np.array(["a", "b"]), True),
    (np.array([12.37, 4.1, 8.0, 1.0]), False), (np.arange(200.0), False),
])
def test_continuous_labels_refused_before_training(labels, ok):
    # was: "ValueError: continuous is not supported" after training
    from geoml_qgis.core.borehole.sequence import check_class_labels

    if ok:
        check_class_labels(labels)
    else:
        with pytest.raises(GeoMLError, match="continuous values|distinct values"):
            check_class_labels(labels)


def test_small_extent_between_samples_is_accepted_far_extent_refused():
    # was: an extent between samples refused although 16 samples lay within 500 m
    from geoml_qgis.core.geostats.rasters import check_extent

    xs, ys = np.meshgrid(np.arange(0, 1000.0, 100), np.arange(0, 1000.0, 100))
    coords = np.column_stack([xs.ravel(), ys.ravel()])
    check_extent(coords, Grid(5, 5, (420.0, 10.0, 0.0, 480.0, 0.0, -10.0), ""))  # 50 m box between samples
    with pytest.raises(GeoMLError, match="None of the 100 samples"):
        check_extent(coords, Grid(5, 5, (90000.0, 10.0, 0.0, 90000.0, 0.0, -10.0), ""))


def test_rotated_raster_is_named(tmp_path):
    from osgeo import gdal

    from geoml_qgis.core.io.raster import raster_grid

    path = tmp_path / "rotated.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(path), 4, 4, 1, gdal.GDT_Float32)
    ds.SetGeoTransform((0.0, 1.0, 0.2, 4.0, 0.2, -1.0))
    ds = None
    with pytest.raises(GeoMLError, match="'rotated.tif': Only north-up"):
        raster_grid(path)


def test_one_cell_stack_is_called_too_small(write_raster):
    # was: "no pixel where every layer has data" for a 1 x 1 raster that has data
    from geoml_qgis.core.io import RasterStack
    from geoml_qgis.core.prospectivity.stack import fit_transform_stats

    path = write_raster(np.ones((1, 1)), name="one.tif")
    with RasterStack([path]) as stack, pytest.raises(GeoMLError, match="1 x 1 cell.*too small"):
        fit_transform_stats(stack, [], 0)


def test_spectral_library_csv_in_windows_1252(tmp_path):
    from geoml_qgis.core.hyperspectral.library import read_csv

    p = tmp_path / "lib.csv"
    p.write_bytes("wavelength;Kaolinite-à;Alunite-é\n2000;0.5;0.4\n2010;0.52;0.41\n2020;0.53;0.45\n".encode("cp1252"))
    lib = read_csv(p)
    assert list(lib.labels) == ["Kaolinite-à", "Alunite-é"]
