"""Desurveying against analytic paths (straight hole, circular arc) and bad survey tables."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoml_qgis.core.borehole.assays import desurvey_straight
from geoml_qgis.core.borehole.survey import desurvey, hole_path
from geoml_qgis.core.errors import GeoMLError

COLLAR = pd.DataFrame({"hole": ["A"], "x": [1000.0], "y": [2000.0], "z": [300.0]})


def _arc(s, rate, az=90.0):
    """A hole starting vertical, building inclination at *rate* rad/m toward azimuth *az*:
    horizontal offset (1 - cos(rate s)) / rate, depth below collar sin(rate s) / rate."""
    a = np.radians(az)
    h = (1 - np.cos(rate * s)) / rate
    return np.column_stack([1000 + h * np.sin(a), 2000 + h * np.cos(a), 300 - np.sin(rate * s) / rate])


def test_straight_hole_equals_the_straight_formula():
    survey = pd.DataFrame({"hole": ["A"] * 3, "depth": [0.0, 50.0, 150.0], "azimuth": [35.0] * 3, "dip": [-60.0] * 3})
    d = np.array([0.0, 10.0, 75.0, 150.0, 180.0])
    for method in ("minimum_curvature", "tangential"):
        got = desurvey(COLLAR, survey, method).positions(np.array(["A"] * 5), d)
        want = desurvey_straight(np.tile([1000.0, 2000.0, 300.0], (5, 1)), np.full(5, 35.0), np.full(5, -60.0), d)
        assert np.allclose(got, want)


@pytest.mark.parametrize("az", [90.0, 215.0])
def test_minimum_curvature_follows_a_circular_arc_exactly(az):
    rate = np.radians(3.0) / 30.0  # 3 degrees per 30 m
    stations = np.arange(0.0, 301.0, 30.0)
    survey = pd.DataFrame({"hole": "A", "depth": stations, "azimuth": az,
                           "dip": -(90.0 - np.degrees(rate * stations))})
    d = np.linspace(0.0, 300.0, 41)  # between stations too
    got = desurvey(COLLAR, survey).positions(np.array(["A"] * len(d)), d)
    assert np.abs(got - _arc(d, rate, az)).max() < 1e-6
    tangential = desurvey(COLLAR, survey, "tangential").positions(np.array(["A"] * len(d)), d)
    err = np.abs(tangential - _arc(d, rate, az)).max()
    assert 0.5 < err < 10  # the tangential method is off by metres on the same arc
    # a finer survey brings the tangential method closer (first-order convergence)
    fine = np.arange(0.0, 301.0, 5.0)
    survey_fine = pd.DataFrame({"hole": "A", "depth": fine, "azimuth": az, "dip": -(90.0 - np.degrees(rate * fine))})
    err_fine = np.abs(desurvey(COLLAR, survey_fine, "tangential").positions(np.array(["A"] * len(d)), d)
                      - _arc(d, rate, az)).max()
    assert err_fine < err / 4


def test_traces_run_along_the_arc_and_holes_without_survey():
    rate = np.radians(2.0) / 30.0
    st = np.arange(0.0, 151.0, 30.0)
    collars = pd.DataFrame({"hole": ["A", "B", "C"], "x": [1000.0, 0.0, 50.0], "y": [2000.0, 0.0, 50.0],
                            "z": [300.0, 10.0, 10.0], "azimuth": [np.nan, 45.0, np.nan], "dip": [np.nan, -45.0, np.nan]})
    survey = pd.DataFrame({"hole": "A", "depth": st, "azimuth": 90.0, "dip": -(90.0 - np.degrees(rate * st))})
    result = desurvey(collars, survey)
    trace = result.paths["A"].trace(step=5.0)
    s = np.linalg.norm(np.diff(trace, axis=0), axis=1).sum()
    assert abs(s - 150.0) < 0.01 and np.allclose(trace[-1], _arc(np.array([150.0]), rate)[0])
    b = result.positions(np.array(["B"]), np.array([10.0]))[0]
    assert np.allclose(b, [5.0, 5.0, 10 - 10 / np.sqrt(2)])
    c = result.positions(np.array(["C"]), np.array([10.0]))[0]
    assert np.allclose(c, [50.0, 50.0, 0.0])
    assert any("straight" in n and "B" in n for n in result.notes) and any("vertical" in n and "C" in n for n in result.notes)


def test_dip_conventions_are_stated_and_checked():
    survey = pd.DataFrame({"hole": "A", "depth": [0.0, 100.0], "azimuth": [0.0, 0.0], "dip": [60.0, 60.0]})
    with pytest.raises(GeoMLError, match="points upward.*positive_down"):
        desurvey(COLLAR, survey)
    pos = desurvey(COLLAR, survey, dip_convention="positive_down").positions(np.array(["A"]), np.array([100.0]))
    assert np.allclose(pos, [[1000.0, 2050.0, 300 - 100 * np.sin(np.radians(60))]])
    mixed = survey.assign(dip=[-60.0, 60.0])
    with pytest.raises(GeoMLError, match="mixes upward and downward"):
        desurvey(COLLAR, mixed)


def test_bad_survey_tables_name_the_hole():
    good = pd.DataFrame({"hole": "A", "depth": [0.0, 100.0], "azimuth": [10.0, 12.0], "dip": [-60.0, -61.0]})
    with pytest.raises(GeoMLError, match="'A' has azimuth 400 at 100 m"):
        desurvey(COLLAR, good.assign(azimuth=[10.0, 400.0]))
    with pytest.raises(GeoMLError, match="azimuth -5"):
        desurvey(COLLAR, good.assign(azimuth=[-5.0, 10.0]))
    with pytest.raises(GeoMLError, match="beyond its length of 80 m"):
        desurvey(COLLAR.assign(length=80.0), good)
    with pytest.raises(GeoMLError, match="no collar"):
        desurvey(COLLAR, good.assign(hole="Z"))
    with pytest.raises(GeoMLError, match="same depth"):
        desurvey(COLLAR, good.assign(depth=[0.0, 0.0]))
    with pytest.raises(GeoMLError, match="without dip"):
        desurvey(COLLAR, good.assign(dip=[-60.0, np.nan]))
    with pytest.raises(GeoMLError, match="samples but no collar"):
        desurvey(COLLAR, good).positions(np.array(["Q"]), np.array([1.0]))
    assert np.allclose(desurvey(COLLAR, good.assign(azimuth=[360.0, 0.0])).positions(np.array(["A"]), np.array([50.0])),
                       desurvey(COLLAR, good.assign(azimuth=[0.0, 0.0])).positions(np.array(["A"]), np.array([50.0])))


def test_a_180_degree_turn_has_no_nan():
    p = hole_path("A", (0, 0, 0), [0.0, 10.0], [0.0, 0.0], [89.999, 89.999])
    assert np.isfinite(p.at(np.array([5.0]))).all()


def test_interval_samples_take_survey_positions():
    from geoml_qgis.core.borehole.samples import build_samples

    rate = np.radians(3.0) / 30.0
    st = np.arange(0.0, 121.0, 30.0)
    survey = pd.DataFrame({"hole": "A", "depth": st, "azimuth": 90.0, "dip": -(90.0 - np.degrees(rate * st))})
    frm = np.arange(0.0, 120.0, 10.0)
    table = pd.DataFrame({"hole": "A", "from": frm, "to": frm + 10, "Cu": np.linspace(1, 9, len(frm)), "Zn": 5.0 + frm})
    collars = COLLAR.assign(azimuth=0.0, dip=-90.0)
    s = build_samples(table, ["Cu", "Zn"], table["hole"].to_numpy(), intervals=(frm, frm + 10), collars=collars,
                      survey=survey)
    assert np.allclose(s.xyz, _arc(frm + 5, rate)) and np.allclose(s.depth, frm + 5)


def test_trace_reaches_the_collar_length():
    survey = pd.DataFrame({"hole": "A", "depth": [0.0, 50.0], "azimuth": [0.0, 0.0], "dip": [-90.0, -90.0]})
    path = desurvey(COLLAR.assign(length=120.0), survey).paths["A"]
    trace = path.trace(step=0)
    assert path.end == 120.0 and np.allclose(trace[-1], [1000.0, 2000.0, 180.0]) and len(trace) == 3
