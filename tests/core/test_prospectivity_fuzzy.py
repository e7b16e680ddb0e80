"""Fuzzy logic core: overlay operators against values computed by hand, memberships on a raster
larger than one block, categorical tables, training-set memberships, bad input.
(QGIS's own native:fuzzifyraster* algorithms are the reference for the continuous memberships:
tests/qgis/test_prospectivity_classics_algs.py.)"""
from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal, osr

from geoml_qgis.core.errors import Cancelled, GeoMLError
from geoml_qgis.core.prospectivity.fuzzy import (FuzzyClassifier, Membership, fuzzy_rasters, overlay, overlay_rasters,
                                                 parse_classes)


def test_overlay_operators_equal_hand_values():
    mu = np.array([[0.2, np.nan], [0.5, 0.5], [0.8, 0.5]])
    assert overlay(mu, "and")[0] == pytest.approx(0.2)
    assert overlay(mu, "or")[0] == pytest.approx(0.8)
    assert overlay(mu, "product")[0] == pytest.approx(0.08)
    assert overlay(mu, "sum")[0] == pytest.approx(0.92)  # 1 - 0.8 * 0.5 * 0.2
    assert overlay(mu, "gamma", 0.9)[0] == pytest.approx(0.92 ** 0.9 * 0.08 ** 0.1)
    assert overlay(mu, "gamma", 1.0)[0] == pytest.approx(0.92) and overlay(mu, "gamma", 0.0)[0] == pytest.approx(0.08)
    assert all(np.isnan(overlay(mu, op)[1]) for op in ("and", "or", "product", "sum", "gamma"))


def test_memberships_by_hand():
    x = np.array([0.0, 5.0, 10.0, 20.0, np.nan])
    assert np.allclose(Membership("linear", low=10, high=0)(x)[:4], [1, 0.5, 0, 0])  # decreasing
    assert np.allclose(Membership("power", low=0, high=10, exponent=2)(x)[:4], [0, 0.25, 1, 1])
    assert Membership("large", midpoint=10, spread=5)(x)[2] == pytest.approx(0.5)
    assert Membership("small", midpoint=10, spread=5)(x)[1] == pytest.approx(1 / (1 + 0.5 ** 5))
    assert Membership("gaussian", midpoint=10, spread=0.01)(x)[3] == pytest.approx(np.exp(-1))
    assert Membership("near", midpoint=10, spread=0.01)(x)[3] == pytest.approx(0.5)
    cat = Membership("categorical", classes=parse_classes("0: 0.1, 10: 0.9"))
    assert np.allclose(cat(x)[:4], [0.1, 0, 0.9, 0]) and np.isnan(cat(x)[4])


def _tif(path, arr, nodata=-9999.0):
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds = gdal.GetDriverByName("GTiff").Create(str(path), arr.shape[1], arr.shape[0], 1, gdal.GDT_Float32)
    ds.SetGeoTransform((500000.0, 10.0, 0.0, 7000000.0, 0.0, -10.0))
    ds.SetProjection(srs.ExportToWkt())
    ds.GetRasterBand(1).SetNoDataValue(nodata)
    ds.GetRasterBand(1).WriteArray(arr)
    ds = None
    return str(path)


def test_rasters_block_by_block(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 100, (600, 530)).astype(np.float32)  # more than one 512-cell block each way
    g = rng.integers(1, 4, (600, 530)).astype(np.float32)
    a[5, 7] = -9999.0
    pa, pg = _tif(tmp_path / "a.tif", a), _tif(tmp_path / "g.tif", g)
    ms = [Membership("large", midpoint=50, spread=3), Membership("categorical", classes={1: 0.2, 2: 0.6, 3: 1.0})]
    fuzzy_rasters([pa, pg], ms, tmp_path / "mu.tif", tmp_path / "ov.tif", "gamma", 0.8)
    mu = gdal.Open(str(tmp_path / "mu.tif")).ReadAsArray()
    ov = gdal.Open(str(tmp_path / "ov.tif")).ReadAsArray()
    af = np.where(a == -9999, np.nan, a).astype(float)
    expect = overlay(np.stack([ms[0](af), ms[1](g)]), "gamma", 0.8)
    ok = np.isfinite(expect)
    assert np.allclose(ov[ok], expect[ok], atol=1e-6) and ov[5, 7] == -9999 and mu[0, 5, 7] == -9999
    qml = (tmp_path / "ov.qml").read_text()
    assert 'minimumValue="0"' in qml and 'maximumValue="1"' in qml  # styled on the fixed 0-1 range
    overlay_rasters([str(tmp_path / "mu.tif")], tmp_path / "ov2.tif", "gamma", 0.8)
    assert np.allclose(gdal.Open(str(tmp_path / "ov2.tif")).ReadAsArray()[ok], expect[ok], atol=1e-6)
    with pytest.raises(Cancelled):
        fuzzy_rasters([pa], ms[:1], overlay_path=tmp_path / "c.tif", progress=lambda f: f < 0.3)
    assert not (tmp_path / "c.tif").exists()
    with pytest.raises(GeoMLError, match="not a fuzzy membership"):
        overlay_rasters([pa], tmp_path / "bad.tif")
    assert not (tmp_path / "bad.tif").exists()


def test_training_memberships_rank_deposits_high():
    rng = np.random.default_rng(3)
    area = rng.normal(size=(500, 2))
    dep = rng.normal(size=(40, 2)) + [1.5, -1.5]  # high in x0, low in x1
    clf = FuzzyClassifier("gamma", 0.9, area).fit(np.vstack([dep, area[:10]]), np.r_[np.ones(40), np.zeros(10)])
    (m0, s0), (m1, s1) = clf.memberships_
    assert m0.high > m0.low and m1.high < m1.low and s0 > 0.5 and s1 > 0.5
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(np.r_[np.ones(40), np.zeros(500)], clf.predict_proba(np.vstack([dep, area]))) > 0.9


def test_bad_input():
    with pytest.raises(GeoMLError, match="must differ"):
        Membership("linear", low=1, high=1)
    with pytest.raises(GeoMLError, match="class -> membership"):
        Membership("categorical")
    with pytest.raises(GeoMLError, match="between 0 and 1"):
        Membership("categorical", classes={1: 1.5})
    with pytest.raises(GeoMLError, match="Unknown fuzzy operator"):
        overlay(np.zeros((2, 2)), "xor")
    with pytest.raises(GeoMLError, match="class: membership"):
        parse_classes("1=0.5")
