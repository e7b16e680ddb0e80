"""Bad input through processing.run: a clear error or a correct handling, never a traceback, never a lost file.

Every case sets up pre-existing files at the output paths and asserts that they
survive byte for byte (or, where the run succeeds, that the run replaced them as a
whole), and that no hidden ``.part`` file is left behind. Inputs are copies of the
repository's sample data (Meuse, synthetic boreholes, synthetic SWIR cube), so a
failing guard can never destroy the originals. Cases refused before work take a
fraction of a second; the few that run an algorithm use the small Meuse grid.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from osgeo import gdal, ogr

from .bad_input_support import (  # noqa: F401 - data is a fixture
    ALGORITHMS, OLD, data, good_params, no_parts, outputs, pre_existing, refused)

# ---- paths refused before any work, for every algorithm -------------------------------------------------------
MULTI = [a for a in ALGORITHMS if len(outputs(good_params(a, Path("/d"), Path("/o")))) >= 2]


@pytest.mark.parametrize("alg", MULTI)
def test_two_outputs_sharing_a_path_are_refused(run_alg, data, tmp_path, alg):
    params = good_params(alg, data, tmp_path)
    keys = [k for k in params if k.startswith("OUTPUT") and isinstance(params[k], str)]
    params[keys[1]] = params[keys[0]]
    refused(run_alg, alg, params, "are both set to .* Give each output its own file name")


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_output_onto_an_input_is_refused(run_alg, data, tmp_path, alg):
    params = good_params(alg, data, tmp_path)
    victim = tmp_path / "in" / "victim"
    victim.parent.mkdir()
    # the first file input, copied so that a failing guard destroys only the copy
    key = next(k for k, v in params.items() if not k.startswith("OUTPUT") and (
        isinstance(v, str) and Path(v).is_file() or isinstance(v, list)))
    src = Path(params[key][0] if isinstance(params[key], list) else params[key])
    copy = victim.with_name(src.name)
    shutil.copy(src, copy)
    if src.suffix == ".bil" or src.suffix == ".sli":
        shutil.copy(src.with_suffix(".hdr"), copy.with_suffix(".hdr"))
    params[key] = [str(copy)] + params[key][1:] if isinstance(params[key], list) else str(copy)
    out_key = next(k for k in params if k.startswith("OUTPUT") and isinstance(params[k], str))
    params[out_key] = str(copy)
    refused(run_alg, alg, params, "is the input .* would destroy the input", keep=[str(copy)])


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_output_below_a_file_is_refused(run_alg, data, tmp_path, alg):
    params = good_params(alg, data, tmp_path)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder is expected")
    out_key = next(k for k in params if k.startswith("OUTPUT") and isinstance(params[k], str))
    params[out_key] = str(blocker / "sub" / Path(params[out_key]).name)
    refused(run_alg, alg, params, "is a file, not a folder", keep=[str(blocker)])


# ---- a failure late in the run, or a cancellation, changes nothing -------------------------------------------
def _fail_on_write(monkeypatch, module: str):
    """Make the report writer of *module* fail as an unwritable path does, after every other output is written."""
    import errno
    import importlib

    mod = importlib.import_module(module)

    def fail(path, text):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(mod, "write_text_atomic", fail)


@pytest.mark.parametrize("alg, module", [
    ("ordinarykriging", "geoml_qgis.core.geostats.report"),
    ("boreholeclustering", "geoml_qgis.core.borehole.report"),
])
def test_late_failure_leaves_every_existing_output(run_alg, data, tmp_path, monkeypatch, alg, module):
    # was: the estimate and variance (or the workbook) already replaced when the report failed
    params = good_params(alg, data, tmp_path)
    _fail_on_write(monkeypatch, module)
    refused(run_alg, alg, params, r"Permission denied on '.*\.html'")


class CancelAt:
    """A feedback that cancels when progress first reaches *at* percent."""

    def __new__(cls, at: float):
        from qgis.core import QgsProcessingFeedback

        class _Feedback(QgsProcessingFeedback):
            def setProgress(self, value):  # noqa: N802 - QGIS API
                super().setProgress(value)
                if value >= at:
                    self.cancel()

        return _Feedback()


@pytest.mark.parametrize("alg, at", [
    ("ordinarykriging", 30), ("krigedfeatures", 30), ("alignrasters", 1), ("buildfeaturestack", 1),
    ("rankdrilltargets", 1), ("spectralanglemapper", 20), ("krigingcrossvalidation", 10), ("boreholeclustering", 10),
])
def test_cancellation_is_a_failure_that_leaves_nothing(run_alg, data, tmp_path, alg, at):
    # was: a cancelled run returned an empty result (exit 0 under qgis_process)
    params = good_params(alg, data, tmp_path)
    keep, fresh = outputs(params)[:1], outputs(params)[1:]  # one output existed before, the others did not
    msg = refused(run_alg, alg, params, "Cancelled", keep=keep, feedback=CancelAt(at), all_outputs=False)
    assert "unchanged" in msg
    assert not any(Path(p).exists() for p in fresh), [p for p in fresh if Path(p).exists()]


def test_successful_run_replaces_all_outputs_together(run_alg, data, tmp_path):
    params = good_params("ordinarykriging", data, tmp_path)
    pre_existing(outputs(params))
    res = run_alg("geoml:ordinarykriging", params)
    for p in outputs(params):
        assert not Path(p).read_bytes().startswith(OLD)
    assert gdal.Open(res["OUTPUT_ESTIMATE"]).RasterXSize == 78
    no_parts(tmp_path)


def test_stale_parts_of_a_killed_run_are_cleaned(run_alg, data, tmp_path):
    import subprocess
    import sys

    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout)
    stale = tmp_path / f".est.{dead}-0123abcd.part.tif"
    stale.write_bytes(b"half-written by a killed run")
    run_alg("geoml:ordinarykriging", good_params("ordinarykriging", data, tmp_path))
    assert not stale.exists()


# ---- damaged inputs: the file and the fix named, no traceback -------------------------------------------------
def _truncated(src: Path, dst: Path) -> str:
    gdal.Translate(str(dst), str(src), creationOptions=["TILED=NO"])
    size = dst.stat().st_size
    with open(dst, "r+b") as fh:
        fh.truncate(size // 2)
    return str(dst)


@pytest.mark.parametrize("alg, key", [
    ("ordinarykriging", "REFERENCE"), ("krigedfeatures", "REFERENCE"), ("alignrasters", "INPUTS"),
    ("buildfeaturestack", "INPUTS"), ("rankdrilltargets", "PROBABILITY"), ("rankdrilltargets", "UNCERTAINTY"),
    ("evaluateprospectivity", "PROBABILITY"), ("trainhybridpredictor", "COVARIATES"),
])
def test_truncated_geotiff_is_named_as_damaged(run_alg, data, tmp_path, alg, key):
    params = good_params(alg, data, tmp_path)
    src = Path(params[key][0] if isinstance(params[key], list) else params[key])
    bad = _truncated(src, tmp_path / f"broken_{src.name}")
    params[key] = [bad] + params[key][1:] if isinstance(params[key], list) else bad
    refused(run_alg, alg, params, rf"broken_{src.stem}\.tif.* (is )?damaged or truncated|broken_{src.stem}")


def test_not_a_raster_is_named(run_alg, data, tmp_path):
    params = good_params("alignrasters", data, tmp_path)
    fake = tmp_path / "notes.tif"
    fake.write_text("this is text, not a GeoTIFF")
    params["INPUTS"] = [str(fake)]
    refused(run_alg, "alignrasters", params, "'notes.tif' .* cannot be opened: .*not recognized")


def test_model_of_the_wrong_kind_of_file_is_named(run_alg, data, tmp_path):
    params = {**good_params("predictweightsofevidence", data, tmp_path), "MODEL": str(data / "model.pt")}
    refused(run_alg, "predictweightsofevidence", params, r"'model.pt' \(.*\) must be a .json file")


def test_damaged_model_file_is_named(run_alg, data, tmp_path):
    msg = refused(run_alg, "predicthybrid", good_params("predicthybrid", data, tmp_path), "model.pt")
    assert "weights_only" not in msg and "file an issue" not in msg


# ---- layers without CRS ---------------------------------------------------------------------------------------
def _copy_points_without_crs(src: Path, dst: Path) -> str:
    ogr.UseExceptions()
    drv = "ESRI Shapefile" if dst.suffix == ".shp" else "GPKG"
    gdal.VectorTranslate(str(dst), str(src), format=drv)
    if dst.suffix == ".shp":
        dst.with_suffix(".prj").unlink(missing_ok=True)
    else:
        ds = ogr.Open(str(dst), 1)
        ds.ExecuteSQL("UPDATE gpkg_geometry_columns SET srs_id = 0")
        ds.ExecuteSQL("UPDATE gpkg_contents SET srs_id = 0")
        ds = None
    return str(dst)


@pytest.mark.parametrize("alg", ["fitvariogram", "ordinarykriging", "krigingcrossvalidation", "trainhybridpredictor"])
@pytest.mark.parametrize("suffix", [".shp", ".gpkg"])
def test_points_without_crs_are_named_with_how_to_assign(run_alg, data, tmp_path, alg, suffix):
    # was: a shapefile without .prj kriged into rasters without CRS; a GeoPackage without CRS called "geographic"
    params = good_params(alg, data, tmp_path)
    params["INPUT"] = _copy_points_without_crs(data / "meuse.gpkg", tmp_path / f"nocrs{suffix}")
    msg = refused(run_alg, alg, params, r"nocrs.* has no coordinate reference system.*Assign")
    assert "geographic" not in msg


def test_raster_without_crs_is_named(run_alg, data, tmp_path):
    params = good_params("alignrasters", data, tmp_path)
    bare = tmp_path / "bare.tif"
    ds = gdal.Translate(str(bare), str(data / "dem.tif"))
    ds.SetProjection("")
    ds = None
    Path(str(bare) + ".aux.xml").unlink(missing_ok=True)
    params["INPUTS"] = [str(bare)]
    refused(run_alg, "alignrasters", params, r"bare.tif.* has no coordinate reference system")


