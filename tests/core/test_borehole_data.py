"""Assay cleaning, straight-hole desurveying and transforms of the borehole package (known answers)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import gmean

from geoml_qgis.core.borehole.assays import clean_assays, desurvey_straight, hole_ids, intervals_to_positions
from geoml_qgis.core.borehole.samples import build_samples, collar_frame
from geoml_qgis.core.borehole.transforms import apply_transform, clr, prepare_features
from geoml_qgis.core.errors import GeoMLError


def test_detection_limit_values_are_substituted_and_counted():
    df = pd.DataFrame({
        "Cu": ["<0.01", -0.02, "1.5", "", "0", 3.0, "> 1000"],
        "Cu_flag": ["", "", "", "", "", "<", ""],
        "Zn": [1, 2, 3, 4, 5, 6, 7],
    })
    values, kept, log = clean_assays(df, ["Cu", "Zn"])
    assert kept.tolist() == [True, True, True, False, True, True, True]
    # <0.01 -> 0.005, -0.02 -> 0.01, 0 -> half the smallest positive (0.005 / 2), flagged 3 -> 1.5, >1000 -> 1000
    assert np.allclose(values["Cu"], [0.005, 0.01, 1.5, 0.0025, 1.5, 1000.0])
    row = log.counts.set_index("element").loc["Cu"]
    assert (row.below_dl_text, row.negative_flag, row.flag_column, row.zero, row.over_range, row.blank) == (1, 1, 1, 1, 1, 1)
    assert log.dropped_rows == 1 and any("half the detection limit" in m for m in log.messages)


def test_text_in_an_element_column_names_the_row():
    df = pd.DataFrame({"Cu": [1.0, 2.0, "n.a. see note"], "Zn": [1, 2, 3]})
    with pytest.raises(GeoMLError, match=r"'Cu'.*'n.a. see note' in row 3"):
        clean_assays(df, ["Cu", "Zn"])


def test_constant_columns_are_ignored_and_all_constant_is_an_error():
    df = pd.DataFrame({"Cu": [1.0, 2.0, 3.0], "Au": ["<0.005"] * 3})
    values, _, log = clean_assays(df, ["Cu", "Au"])
    assert list(values.columns) == ["Cu"] and log.dropped_elements == ["Au"]
    with pytest.raises(GeoMLError, match="constant"):
        clean_assays(df, ["Au"])


def test_missing_hole_id_is_an_error_naming_the_row():
    with pytest.raises(GeoMLError, match="no hole id .row 2"):
        hole_ids(pd.Series(["DH1", None, "DH2"]))
    assert hole_ids(pd.Series([101.0, 102.0])).tolist() == ["101", "102"]


def test_straight_hole_desurvey_analytic():
    collar = np.array([[1000.0, 2000.0, 100.0]] * 3)
    xyz = desurvey_straight(collar, np.array([90.0, 90.0, 0.0]), np.array([-60.0, 60.0, -90.0]), np.array([10.0, 10.0, 10.0]))
    assert np.allclose(xyz[0], [1005.0, 2000.0, 100 - 10 * np.sqrt(3) / 2])
    assert np.allclose(xyz[1], xyz[0])  # the dip's sign is ignored
    assert np.allclose(xyz[2], [1000.0, 2000.0, 90.0])


def test_interval_errors():
    collars = pd.DataFrame({"hole": ["A"], "x": [0.0], "y": [0.0], "z": [0.0], "azimuth": [0.0], "dip": [-90.0]})
    with pytest.raises(GeoMLError, match="no collar"):
        intervals_to_positions(np.array(["B"]), np.array([0.0]), np.array([1.0]), collars)
    with pytest.raises(GeoMLError, match="not below FROM"):
        intervals_to_positions(np.array(["A"]), np.array([2.0]), np.array([1.0]), collars)
    xyz, mid = intervals_to_positions(np.array(["A"]), np.array([2.0]), np.array([4.0]), collars)
    assert np.allclose(xyz, [[0, 0, -3.0]]) and mid.tolist() == [3.0]


def test_duplicate_positions_are_averaged_geometrically():
    table = pd.DataFrame({"hole": ["A", "A", "A"], "x": [0, 0, 0], "y": [0, 0, 0], "z": [-1, -1, -2],
                          "Cu": [10.0, 40.0, 5.0], "Zn": [1.0, 4.0, 3.0]})
    s = build_samples(table, ["Cu", "Zn"], table["hole"].to_numpy(), xyz=table[["x", "y", "z"]].to_numpy(float))
    assert len(s) == 2 and np.allclose(s.values["Cu"], [20.0, 5.0]) and np.allclose(s.depth, [0.0, 1.0])
    assert any("duplicate" in m for m in s.log.messages)


def test_depth_only_samples_hang_below_their_xy():
    table = pd.DataFrame({"x": [5.0, 5.0], "y": [1.0, 1.0], "d": [12.0, 2.0], "Cu": [1.0, 2.0], "Zn": [2.0, 1.0]})
    s = build_samples(table, ["Cu", "Zn"], np.array(["A", "A"]), xyz=np.column_stack([table.x, table.y, [np.nan] * 2]),
                      depth=table["d"].to_numpy())
    assert s.depth.tolist() == [2.0, 12.0] and s.xyz[:, 2].tolist() == [-2.0, -12.0]


def test_collar_frame_defaults_to_vertical_holes():
    c = collar_frame(pd.DataFrame({"id": ["A"], "E": [1.0], "N": [2.0], "RL": [3.0]}), "id", "E", "N", "RL")
    assert c.loc[0, "dip"] == -90.0 and c.loc[0, "azimuth"] == 0.0


def test_clr_against_geometric_mean_definition():
    x = np.array([[1.0, 10.0, 100.0], [2.0, 2.0, 8.0]])
    expected = np.log(x / gmean(x, axis=1)[:, None])
    assert np.allclose(clr(x), expected) and np.allclose(clr(x).sum(axis=1), 0)
    # units do not matter after clr + standardisation: ppm -> % scales a column by a constant
    y = x * np.array([1e-4, 1.0, 1.0])
    assert np.allclose(prepare_features(x, "clr")[0], prepare_features(y, "clr")[0])
    with pytest.raises(GeoMLError, match="positive"):
        apply_transform(np.array([[0.0, 1.0]]), "log")
    with pytest.raises(GeoMLError, match="two elements"):
        clr(np.array([[1.0], [2.0]]))


def test_xyz_rows_and_collar_intervals_give_the_same_samples():
    from geoml_qgis.core.borehole.synthetic import make_boreholes

    synth = make_boreholes(n_holes=3, samples_per_hole=15, seed=2)
    a = synth.assays
    by_interval = build_samples(a, synth.elements, a["hole"].to_numpy(), intervals=(a["from"].to_numpy(), a["to"].to_numpy()),
                                collars=collar_frame(synth.collars, "hole", "x", "y", "z", "azimuth", "dip"))
    pts = synth.points_table()
    by_xyz = build_samples(pts, synth.elements, pts["hole"].to_numpy(), xyz=pts[["X", "Y", "Z"]].to_numpy(float))
    assert np.allclose(by_xyz.xyz, by_interval.xyz, atol=0.01)
    # without collars, depth runs along the hole from its top (kept) sample
    top = pd.Series(by_interval.depth).groupby(by_interval.hole).transform("min").to_numpy()
    assert np.allclose(by_xyz.depth, by_interval.depth - top, atol=0.05)
    assert np.allclose(by_xyz.values.to_numpy(), by_interval.values.to_numpy())
