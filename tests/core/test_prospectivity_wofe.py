"""Weights of evidence: weights, variances and posterior against hand-computed tables on a small
raster built here (every count chosen by hand), generalisation on synthetic layers with a known best
threshold, the conditional-independence checks, table mode, and bad input.

eis-toolkit 1.1.6 (the EIS toolkit's weights of evidence) cannot be installed here: every release
requires Python < 3.11, and QGIS's Python is 3.11 (Debian 12) or 3.13 (Debian 13).
"""
from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from osgeo import gdal, osr

from geoml_qgis.core.errors import Cancelled, GeoMLError
from geoml_qgis.core.io import PointTable
from geoml_qgis.core.prospectivity.wofe import weights_from_counts
from geoml_qgis.core.prospectivity.wofe_model import WofEModel, fit_table, logistic, pairwise_chi_square
from geoml_qgis.core.prospectivity.wofe_raster import fit_raster, run_weights_of_evidence

SRS = osr.SpatialReference()
SRS.ImportFromEPSG(32633)
WKT = SRS.ExportToWkt()

# 10 x 10 cells of 1 x 1 map unit; unit cell = 1 square map unit, so every count is a number of cells.
# A (binary): columns 0-2 are 1 (30 cells). G (categorical): rows 0-3 class 1 (40 cells), rows 4-7
# class 2 (40), rows 8-9 class 3 (20) of which row 9, columns 5-9 have no data (15 left).
# Deposits (row, col): six in A, two outside; in G: class 1 three, class 2 three, class 3 two.
DEPOSITS = [(0, 0), (2, 1), (4, 2), (5, 0), (8, 1), (9, 2), (1, 6), (6, 8)]


def _tif(path, arr, dtype, nodata=None):
    ds = gdal.GetDriverByName("GTiff").Create(str(path), arr.shape[1], arr.shape[0], 1, dtype)
    ds.SetGeoTransform((0.0, 1.0, 0.0, 10.0, 0.0, -1.0))
    ds.SetProjection(WKT)
    b = ds.GetRasterBand(1)
    if nodata is not None:
        b.SetNoDataValue(nodata)
    b.WriteArray(arr)
    ds = None
    return str(path)


def _points(cells, x0=0.0, y0=10.0, res=1.0):
    r, c = np.array(cells, float).T
    return PointTable(x0 + (c + 0.5) * res, y0 - (r + 0.5) * res, None, pd.DataFrame({"id": range(len(r))}), WKT)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp("wofe")
    a = np.zeros((10, 10), np.uint8)
    a[:, :3] = 1
    g = np.ones((10, 10), np.int16)
    g[4:8] = 2
    g[8:] = 3
    g[9, 5:] = -1
    return d, [_tif(d / "A.tif", a, gdal.GDT_Byte), _tif(d / "G.tif", g, gdal.GDT_Int16, -1)]


# hand-computed: W+ = ln[(N(B∩D)/N(D)) / (N(B∩D̄)/N(D̄))], W− likewise outside B
A_WP, A_WM = np.log((6 / 8) / (24 / 92)), np.log((2 / 8) / (68 / 92))
A_VP, A_VM = 1 / 6 + 1 / 24, 1 / 2 + 1 / 68
G_WP = [np.log((3 / 8) / (37 / 87)), np.log((3 / 8) / (37 / 87)), np.log((2 / 8) / (13 / 87))]
G_VP = [1 / 3 + 1 / 37, 1 / 3 + 1 / 37, 1 / 2 + 1 / 13]


def test_binary_weights_equal_hand_values():
    w = weights_from_counts(30, 6, 100, 8)
    assert w["w_plus"] == pytest.approx(1.0560527, abs=1e-6)  # ln 2.875
    assert w["w_minus"] == pytest.approx(-1.0840134, abs=1e-6)  # ln(0.25 / (68/92))
    assert w["s_w_plus"] == pytest.approx(np.sqrt(0.2083333), abs=1e-6)
    assert w["s_w_minus"] == pytest.approx(np.sqrt(0.5147059), abs=1e-6)
    assert w["contrast"] == pytest.approx(2.1400661, abs=1e-6)
    assert w["studentised"] == pytest.approx(2.1400661 / np.sqrt(0.7230392), abs=1e-6)


def test_raster_weights_match_hand_table(small):
    _, paths = small
    model, dep = fit_raster(paths, ["binary", "categorical"], _points(DEPOSITS), 1.0)
    a, g = model.layers
    assert [c.area for c in a.classes] == [70, 30] and [c.deposits for c in a.classes] == [2, 6]
    assert a.classes[1].weight == pytest.approx(A_WP) and a.classes[0].weight == pytest.approx(A_WM)
    assert a.classes[1].s_weight ** 2 == pytest.approx(A_VP) and a.classes[0].s_weight ** 2 == pytest.approx(A_VM)
    assert [c.area for c in g.classes] == [40, 40, 15] and g.missing_area == 5
    assert [c.deposits for c in g.classes] == [3, 3, 2]
    assert np.allclose([c.weight for c in g.classes], G_WP)
    assert np.allclose([c.s_weight ** 2 for c in g.classes], G_VP)
    assert model.prior_area == 100 and model.prior_deposits == 8
    # a smaller unit cell multiplies every area: 0.25 map units² -> 4 unit cells per raster cell
    m4, _ = fit_raster(paths, ["binary", "categorical"], _points(DEPOSITS), 0.25)
    assert m4.layers[0].classes[1].weight == pytest.approx(np.log((6 / 8) / (114 / 392)))


def test_posterior_sd_and_checks_match_hand_values(small, tmp_path):
    _, paths = small
    out = {k: str(tmp_path / f"{k}.{e}") for k, e in [("p", "tif"), ("sd", "tif"), ("w", "csv"), ("r", "html"),
                                                        ("m", "json")]}
    calls = []
    res = run_weights_of_evidence(paths, ["binary", "categorical"], _points(DEPOSITS), 1.0, out["p"], out["sd"],
                                  out["w"], out["r"], out["m"], progress=lambda f: calls.append(f))
    p = gdal.Open(out["p"]).ReadAsArray()
    sd = gdal.Open(out["sd"]).ReadAsArray()
    prior = np.log(8 / 92)
    # cell (0, 0): in A, class 1 of G
    p00 = logistic(prior + A_WP + G_WP[0])
    assert p[0, 0] == pytest.approx(p00, rel=1e-5)
    assert sd[0, 0] == pytest.approx(p00 * np.sqrt(1 / 8 + A_VP + G_VP[0]), rel=1e-5)
    # cell (9, 7): outside A, G missing -> G adds nothing; missing-data variance over G's classes
    p0 = logistic(prior + A_WM)
    pk = logistic(prior + A_WM + np.array(G_WP))
    var = p0 ** 2 * (1 / 8 + A_VM) + ((pk - p0) ** 2 * np.array([40, 40, 15]) / 95).sum()
    assert p[9, 7] == pytest.approx(p0, rel=1e-5)
    assert sd[9, 7] == pytest.approx(np.sqrt(var), rel=1e-5)
    # Agterberg-Cheng: T = Σ posterior over unit cells, s²(T) = Σ over unique conditions (area · sd)²
    ac = res.agterberg_cheng
    assert ac["predicted_deposits"] == pytest.approx(p.astype(float).sum(), rel=1e-5)
    a = gdal.Open(paths[0]).ReadAsArray()
    g = gdal.Open(paths[1]).ReadAsArray()
    st2 = sum((sd[(a == i) & (g == j)].astype(float).sum()) ** 2 for i in (0, 1) for j in (-1, 1, 2, 3))
    assert ac["sd_predicted"] == pytest.approx(np.sqrt(st2), rel=1e-5)
    assert ac["ratio"] == pytest.approx(8 / ac["predicted_deposits"])
    # pairwise chi-square over the deposits equals scipy's
    from scipy.stats import chi2_contingency

    obs = np.array([[1, 1, 0], [2, 2, 2]])  # rows: A = 0, 1; columns: G = 1, 2, 3
    stat, pv, dof, _ = chi2_contingency(obs, correction=False)
    assert res.chi_square[0]["chi_square"] == pytest.approx(stat) and res.chi_square[0]["dof"] == dof
    assert res.chi_square[0]["p_value"] == pytest.approx(pv)
    # outputs: styled rasters, weights CSV, report, model that predicts the same
    assert (tmp_path / "p.qml").exists() and (tmp_path / "sd.qml").exists()
    rows = list(csv.DictReader(open(out["w"])))
    a1 = next(r for r in rows if r["layer"] == "A" and r["class"] == "1")
    assert float(a1["W+"]) == pytest.approx(A_WP, rel=1e-5) and float(a1["deposits"]) == 6
    assert any(r["class"] == "no data" and r["layer"] == "G" for r in rows)
    assert "Agterberg-Cheng" in open(out["r"]).read()
    m = WofEModel.load(out["m"])
    pp, _ = m.predict(np.array([[1.0, 1.0], [0.0, np.nan]]))
    assert pp == pytest.approx([p00, p0])
    assert calls and calls[-1] == 1.0 and all(b >= a_ for a_, b in zip(calls, calls[1:]))


def test_cancel_leaves_no_output(small, tmp_path):
    _, paths = small
    out = tmp_path / "p.tif"
    with pytest.raises(Cancelled):
        run_weights_of_evidence(paths, ["binary", "categorical"], _points(DEPOSITS), 1.0, str(out),
                                progress=lambda f: f < 0.6)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("t0", [12, 27, 41])
@pytest.mark.parametrize("kind", ["ascending", "descending"])
def test_generalisation_finds_known_threshold(tmp_path, t0, kind):
    """Synthetic family: 60 x 60 cells, v = column (ascending: low v favourable) or 59 - column
    (descending). Every column < t0 holds 5 deposits, every other column 1, in random rows: the
    deposit density steps at t0, and the contrast must peak exactly there."""
    n = 60
    rng = np.random.default_rng(t0)
    v = np.tile(np.arange(n, dtype=np.float32), (n, 1))
    if kind == "descending":
        v = (n - 1 - v).copy()
    cells = [(int(r), c) for c in range(n) for r in rng.choice(n, 5 if c < t0 else 1, replace=False)]
    path = _tif(tmp_path / "v.tif", v, gdal.GDT_Float32, -9999)
    expected = t0 - 1 if kind == "ascending" else n - 1 - t0  # pattern v <= t0 - 1, or v > 59 - t0
    model, _ = fit_raster([path], kind, _points(cells), 1.0)
    lw = model.layers[0]
    assert lw.threshold == expected
    pattern = lw.classes[0 if kind == "ascending" else 1]
    assert pattern.deposits == 5 * t0 and pattern.weight > 0 > lw.classes[1 if kind == "ascending" else 0].weight
    auto, _ = fit_raster([path], "ordered", _points(cells), 1.0)  # direction found from the data
    assert auto.layers[0].kind == kind and auto.layers[0].threshold == expected
    st, _ = fit_raster([path], kind, _points(cells), 1.0, criterion="studentised")
    assert abs(st.layers[0].threshold - expected) <= 2


def test_table_mode_equals_raster_counts(small):
    _, paths = small
    a = gdal.Open(paths[0]).ReadAsArray().astype(float).ravel()
    g = gdal.Open(paths[1]).ReadAsArray().astype(float).ravel()
    g[g == -1] = np.nan
    X = np.column_stack([a, g])
    dep_idx = [r * 10 + c for r, c in DEPOSITS]
    bg = np.delete(X, dep_idx, axis=0)
    tm = fit_table(X[dep_idx], bg, ["A", "G"], ["binary", "categorical"])
    rm, _ = fit_raster(paths, ["binary", "categorical"], _points(DEPOSITS), 1.0)
    for lt, lr in zip(tm.layers, rm.layers):
        assert np.allclose(lt.weight, lr.weight) and np.allclose(lt.variance, lr.variance)
    assert tm.prior == pytest.approx(rm.prior)


def test_pairwise_chi_square_skips_missing():
    cls = np.array([[0, 0], [1, 1], [1, 2], [0, 1], [1, 1]])  # G's class 2 = no data
    rows = pairwise_chi_square(cls, ["a", "b"], [2, 2])
    assert rows[0]["deposits"] == 4


def test_bad_input_messages(small, tmp_path):
    _, paths = small
    kinds = ["binary", "categorical"]
    with pytest.raises(GeoMLError, match="at least two"):
        fit_raster(paths, kinds, _points([(0, 0)]), 1.0)
    with pytest.raises(GeoMLError, match="infinite"):
        fit_raster(paths, kinds, _points([(0, 0), (3, 1), (6, 2)]), 1.0)  # all in A
    with pytest.raises(GeoMLError, match="All 3 deposits fall in class 1 of 'G'"):
        fit_raster([paths[1]], "categorical", _points([(0, 5), (2, 7), (3, 9)]), 1.0)
    with pytest.raises(GeoMLError, match="No threshold of 'G'"):
        fit_raster([paths[1]], "ascending", _points([(0, 5), (2, 7), (3, 9)]), 1.0)
    with pytest.raises(GeoMLError, match="closer than the side of a unit cell"):
        fit_raster(paths, kinds, _points(DEPOSITS), 4.0)  # unit cell 2 x 2: neighbours share one
    flat = _tif(tmp_path / "flat.tif", np.full((10, 10), 3, np.int16), gdal.GDT_Int16)
    with pytest.raises(GeoMLError, match="one value"):
        fit_raster([paths[0], flat], kinds, _points(DEPOSITS), 1.0)
    holes = np.full((10, 10), 2, np.int16)
    holes[:, 5:] = 1
    for r, c in DEPOSITS:
        holes[r, c] = -1
    hp = _tif(tmp_path / "holes.tif", holes, gdal.GDT_Int16, -1)
    with pytest.raises(GeoMLError, match="No training deposit falls on data"):
        fit_raster([paths[0], hp], kinds, _points(DEPOSITS), 1.0)
    with pytest.raises(GeoMLError, match="one evidence type per"):
        fit_raster(paths, ["binary", "categorical", "binary"], _points(DEPOSITS), 1.0)
    with pytest.raises(GeoMLError, match="distinct values"):
        fit_raster([paths[1]], "binary", _points(DEPOSITS), 1.0)


def test_table_run_on_yukon(tmp_path):
    """Real data: Yukon porphyry Cu (PC1-PC7 at 95 deposits / 218 non-deposits), 013_Random.csv as the area."""
    from geoml_qgis.core.prospectivity.wofe_table import run_table

    d = __import__("pathlib").Path(__file__).resolve().parents[2] / "geoml_qgis" / "sample_data" / "yukon_porphyry"
    names = [f"PC{i}" for i in range(1, 8)]
    t, bg = pd.read_csv(d / "02_Train_PCA.csv"), pd.read_csv(d / "013_Random.csv")
    res = run_table(t[names].to_numpy(float), t["DEP"].to_numpy(), names, "ordered", bg[names].to_numpy(float),
                    n_thresholds=20, report_path=str(tmp_path / "r.html"), explain_csv=str(tmp_path / "e.csv"))
    assert 0.7 < np.mean(res.cv.roc_auc) < 0.9  # held-out folds; below the other methods (README)
    m = res.result.model
    assert m.prior_deposits == 95 and m.prior_area == 95 + 3000
    assert res.posterior[t["DEP"] == 1].mean() > 2 * res.posterior[t["DEP"] == 0].mean()
    assert "Permutation importance" in (tmp_path / "r.html").read_text() and (tmp_path / "e.csv").exists()
