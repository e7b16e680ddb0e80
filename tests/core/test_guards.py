"""Guards before work and system errors explained (no traceback, the file and the fix named)."""
from __future__ import annotations

import errno
import logging
import os

import numpy as np
import pytest

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.io import BlockWriter, Grid
from geoml_qgis.core.io.guards import check_output_paths, check_output_size, explain_error


def _grid(w=4, h=4):
    return Grid(w, h, (0.0, 1.0, 0.0, 4.0, 0.0, -1.0), "EPSG:32633")


def test_output_equal_to_input_refused(tmp_path):
    src = tmp_path / "ref.tif"
    src.write_bytes(b"x")
    with pytest.raises(GeoMLError, match="is the input 'Reference raster'"):
        check_output_paths({"Reference raster": str(src)}, {"Estimate": str(tmp_path / "." / "ref.tif")})
    with pytest.raises(GeoMLError, match="is the input"):
        check_output_paths({"Points": f"{src}|layername=pts"}, {"Table": str(src)})


def test_two_outputs_one_path_refused(tmp_path):
    with pytest.raises(GeoMLError, match="'Estimate' and 'Variance' are both set"):
        check_output_paths({}, {"Estimate": str(tmp_path / "a.tif"), "Variance": str(tmp_path / "a.tif")})


def test_parent_is_a_file_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(GeoMLError, match="is a file, not a folder"):
        check_output_paths({}, {"Estimate": str(tmp_path / "f" / "sub" / "a.tif")})


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_folder_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(GeoMLError, match="cannot be written"):
            check_output_paths({}, {"Estimate": str(ro / "a.tif")})
    finally:
        ro.chmod(0o700)


def test_huge_output_refused_before_work_with_numbers(tmp_path, monkeypatch):
    with pytest.raises(GeoMLError, match=r"124,000 x 100,000 cells .* GEOML_MAX_OUTPUT_CELLS"):
        with BlockWriter(tmp_path / "big.tif", _grid(124_000, 100_000)):
            pass
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("GEOML_MAX_OUTPUT_CELLS", "2e10")
    with pytest.raises(GeoMLError, match="only .* are free"):
        check_output_size(tmp_path / "big.tif", 124_000, 100_000, 1, 4 * 10**6)


def test_all_nodata_output_warned(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="geoml_qgis"):
        with BlockWriter(tmp_path / "empty.tif", _grid()) as w:
            w.write(next(iter(_grid().windows())), np.full((4, 4), np.nan))
    assert "holds no value at all" in caplog.text and "empty.tif" in caplog.text


@pytest.mark.parametrize("exc, expected", [
    (PermissionError(errno.EACCES, "Permission denied", "/data/out/.est.123-0123abcd.part.tif"), "Permission denied on '/data/out/est.tif'"),
    (FileExistsError(errno.EEXIST, "File exists", "/data/report.html"), "is a file where a folder is expected"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "/data/f/x.tif"), "is a file where a folder is expected"),
    (OSError(errno.ENOSPC, "No space left on device", "/data/x.tif"), "disk is full"),
    (RuntimeError("/data/ref.tif, band 1: IReadBlock failed at X offset 0, Y offset 0: TIFFReadEncodedTile() failed."),
     "'/data/ref.tif' is damaged or truncated"),
    (RuntimeError("`/data/x.tif' not recognized as a supported file format."), "not a raster or vector format"),
    (ValueError("continuous is not supported"), None),
])
def test_system_errors_explained(exc, expected):
    msg = explain_error(exc)
    if expected is None:
        assert msg is None
    else:
        assert expected in msg and "part" not in msg


def test_geopackage_without_crs_is_named_as_such_not_geographic():
    from geoml_qgis.core.io.crs import require_projected

    undefined = 'GEOGCS["Undefined geographic SRS",DATUM["unknown",SPHEROID["unknown",6378137,298.257223563]]]'
    with pytest.raises(GeoMLError, match="has no coordinate reference system.*Assigned Coordinate Reference System"):
        require_projected(undefined, "the sample layer")
    require_projected("EPSG:28992")
