"""Tables and point layers: CSV/XLSX/GeoPackage in, GeoPackage PointZ out, clear errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from osgeo import ogr

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.io import PointTable, numeric_column, read_points, read_table, to_wkt, write_points

from ..conftest import ROOT

MEUSE = ROOT / "geoml_qgis" / "sample_data" / "meuse"


def test_csv_gpkg_and_xlsx_give_the_same_table(tmp_path):
    csv = read_table(MEUSE / "meuse.txt")
    gpkg = read_points(MEUSE / "meuse.gpkg")
    assert len(csv) == len(gpkg) == 155
    assert np.allclose(csv["zinc"], gpkg.attributes["zinc"]) and np.allclose(csv["x"], gpkg.x)
    assert "28992" in gpkg.crs_wkt
    xlsx = tmp_path / "meuse.xlsx"
    csv.to_excel(xlsx, index=False)
    pts = read_points(xlsx, x_field="x", y_field="y")
    assert np.allclose(pts.y, csv["y"]) and pts.crs_wkt == ""


def test_semicolon_csv_is_sniffed(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("id;x;y;Cu\n1;10;20;5,0\n2;11;21;<0.5\n")
    df = read_table(p)
    assert list(df.columns) == ["id", "x", "y", "Cu"]


def test_numeric_column_blanks_and_na_tokens_become_nan_text_is_an_error():
    df = pd.DataFrame({"a": ["1.5", "", "NA", None, "n/a"], "b": ["1", "2", "abc", "4", "5"]})
    a = numeric_column(df, "a")
    assert a[0] == 1.5 and np.isnan(a[1:]).all()
    with pytest.raises(GeoMLError, match="'abc' in row 3"):
        numeric_column(df, "b")
    with pytest.raises(GeoMLError, match="not found"):
        numeric_column(df, "zz")


def test_write_points_pointz_round_trip(tmp_path):
    pts = PointTable(np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([-5.0, -6.5]),
                     pd.DataFrame({"hole": ["A", "B"], "cluster": np.array([1, 2]), "cu": [0.1, np.nan]}),
                     to_wkt("EPSG:28992"))
    out = tmp_path / "s.gpkg"
    write_points(out, pts)
    ds = ogr.Open(str(out))
    layer = ds.GetLayer(0)
    assert layer.GetGeomType() == ogr.wkbPoint25D and layer.GetFeatureCount() == 2
    back = read_points(out)
    assert np.allclose(back.z, [-5.0, -6.5]) and back.attributes["cluster"].tolist() == [1, 2]
    assert back.attributes["cu"].isna().tolist() == [False, True]
    assert [p.name for p in tmp_path.iterdir()] == ["s.gpkg"]


def test_non_point_layers_and_missing_xy_are_refused(tmp_path):
    with pytest.raises(GeoMLError, match="choose its X and Y"):
        read_points(MEUSE / "meuse.txt")
    with pytest.raises(GeoMLError, match="GeoPackages"):
        write_points(tmp_path / "x.shp", PointTable(np.zeros(1), np.zeros(1), None, pd.DataFrame({"a": [1]})))
