"""Shared fixtures. QGIS tests live in tests/qgis and use pytest-qgis's fixtures."""
from __future__ import annotations

import inspect
import os
from pathlib import Path

import numpy as np
import pytest

from tests.markers import SLOW_TESTS, running, watch_subprocesses

os.environ.setdefault("PROJ_DATA", "/usr/share/proj")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"


def pytest_configure(config):
    watch_subprocesses()


def pytest_collection_modifyitems(config, items):
    """Mark each test by what it needs, so tiers can select them (``make test-fast`` skips the slow kinds
    of :data:`tests.markers.SLOW`): ``qgis`` (tests/qgis: a QGIS application), ``qgis_process`` (runs the
    qgis_process launcher as a subprocess), ``desktop`` (real desktop QGIS under Xvfb), ``aws`` (a moto
    server or cfn-lint), ``gstat`` (R gstat as a reference), ``slow`` (:data:`tests.markers.SLOW_TESTS`). A test that starts one of these unmarked
    fails (:func:`tests.markers.require`)."""
    for item in items:
        path = Path(str(item.fspath))
        fixtures = set(getattr(item, "fixturenames", ()))
        try:
            source = inspect.getsource(item.function)
        except (AttributeError, OSError, TypeError):
            source = ""
        if "qgis" in path.parent.parts:
            item.add_marker("qgis")
        if "qgis_process" in fixtures or "LAUNCHER" in source:
            item.add_marker("qgis_process")
        if "qgis-desktop" in source:
            item.add_marker("desktop")
        if "aws" in fixtures or "moto_server(" in source or path.name == "test_infra_aws.py":
            item.add_marker("aws")
        if _calls(item, "run_gstat"):
            item.add_marker("gstat")
        if item.nodeid.startswith(SLOW_TESTS):
            item.add_marker("slow")


def _calls(item, name: str, depth: int = 3) -> bool:
    """Whether *item*'s test function, or a function of its module it calls (to *depth* levels), names *name*."""
    function = getattr(item, "function", None)
    module = getattr(item, "module", None)
    if function is None or module is None:
        return False
    fixtures = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    seen, todo = set(), [(getattr(function, "__code__", None), 0)]
    todo += [(getattr(defs[-1].func, "__code__", None), 0) for defs in fixtures.values() if defs]
    while todo:
        code, level = todo.pop()
        if code is None or code in seen:
            continue
        seen.add(code)
        if name in code.co_names:
            return True
        todo += [(c, level) for c in code.co_consts if inspect.iscode(c)]  # lambdas, comprehensions
        if level < depth:
            todo += [(getattr(getattr(module, n, None), "__code__", None), level + 1) for n in code.co_names]
    return False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    running(item)
    yield
    running(None)


@pytest.fixture
def write_raster(tmp_path):
    """Write a small GeoTIFF from an array ``(bands, rows, cols)`` or ``(rows, cols)``."""
    from osgeo import gdal, osr

    def _write(array, transform=(0.0, 1.0, 0.0, 10.0, 0.0, -1.0), epsg=32633, nodata=None, name="r.tif"):
        arr = np.asarray(array, dtype=np.float32)
        if arr.ndim == 2:
            arr = arr[None]
        path = str(tmp_path / name)
        ds = gdal.GetDriverByName("GTiff").Create(path, arr.shape[2], arr.shape[1], arr.shape[0], gdal.GDT_Float32)
        ds.SetGeoTransform(transform)
        if epsg:
            srs = osr.SpatialReference()
            srs.ImportFromEPSG(epsg)
            ds.SetProjection(srs.ExportToWkt())
        for i, band_arr in enumerate(arr, start=1):
            band = ds.GetRasterBand(i)
            if nodata is not None:
                band.SetNoDataValue(nodata)
            band.WriteArray(band_arr)
        ds = None
        return path

    return _write
