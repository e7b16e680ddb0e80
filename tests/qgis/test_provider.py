"""The plugin as QGIS meets it: provider, algorithms, qgis_process, styles, errors."""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from osgeo import gdal

from .conftest import LAUNCHER, ROOT, SAMPLE

GRIDS = SAMPLE / "meuse" / "grids"


def test_provider_lists_documented_algorithms(geoml_provider):
    from geoml_qgis.algorithms.common.base import GeoMLAlgorithm

    algs = geoml_provider.algorithms()
    assert geoml_provider.id() == "geoml" and algs
    for alg in algs:
        if isinstance(alg, GeoMLAlgorithm):  # workflows (.model3) keep their descriptive names
            assert re.fullmatch(r"[a-z0-9]+", alg.name()), alg.name()
        assert alg.group() and alg.shortHelpString(), alg.id()
    readme = (ROOT / "README.md").read_text()
    for alg in algs:
        assert f"`{alg.id()}`" in readme, f"{alg.id()} missing from the README's algorithm list"


def test_plugin_class_factory_registers_provider(qgis_app):
    from qgis.core import QgsApplication

    import geoml_qgis

    registry = QgsApplication.processingRegistry()
    if registry.providerById("geoml") is not None:
        registry.removeProvider("geoml")
    plugin = geoml_qgis.classFactory(None)
    plugin.initGui()
    registered = registry.providerById("geoml")
    assert registered is not None and registered.algorithm("alignrasters") is not None
    plugin.unload()
    assert registry.providerById("geoml") is None


def test_align_rasters_through_processing_run_loads_styled(run_alg, tmp_path):
    from qgis.core import QgsRasterLayer

    out = tmp_path / "stack.tif"
    res = run_alg("geoml:alignrasters", {
        "INPUTS": [str(GRIDS / "dem.tif"), str(GRIDS / "dist.tif")], "RESAMPLING": 1, "OUTPUT": str(out),
    })
    assert res["OUTPUT"] == str(out)
    ds = gdal.Open(str(out))
    assert ds.RasterCount == 2 and ds.GetRasterBand(1).GetDescription() == "dem"
    src = gdal.Open(str(GRIDS / "dist.tif"))
    a, b = ds.GetRasterBand(2).ReadAsArray(), src.GetRasterBand(1).ReadAsArray()
    valid = b != src.GetRasterBand(1).GetNoDataValue()
    assert np.allclose(a[valid], b[valid])
    layer = QgsRasterLayer(str(out), "stack")
    assert layer.isValid() and layer.renderer().type() == "singlebandpseudocolor"


def test_align_rasters_through_qgis_process(qgis_process, tmp_path):
    out = tmp_path / "stack.tif"
    result = qgis_process("geoml:alignrasters", {
        "INPUTS": [GRIDS / "dem.tif", GRIDS / "soil.tif"], "RESAMPLING": 0, "OUTPUT": out,
    })
    assert result["results"]["OUTPUT"] == str(out)
    ds = gdal.Open(str(out))
    assert ds.RasterCount == 2 and ds.GetMetadataItem("GEOML_ALGORITHM") == "geoml:alignrasters"


def test_qgis_process_lists_the_provider():
    proc = subprocess.run([str(LAUNCHER), "list"], capture_output=True, text=True, timeout=300)
    assert "geoml:alignrasters" in proc.stdout


def test_missing_optional_package_names_the_pip_command(qgis_app, qgis_processing):
    from qgis.core import QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback

    from geoml_qgis.algorithms.rastertools.align_rasters import AlignRasters

    class NeedsPackage(AlignRasters):
        REQUIRES = ("geoml_no_such_package",)

    alg = NeedsPackage()
    alg.initAlgorithm()
    assert "geoml_no_such_package" in alg.shortHelpString()
    with pytest.raises(QgsProcessingException, match="pip install"):
        alg.processAlgorithm({}, QgsProcessingContext(), QgsProcessingFeedback())


def test_bad_input_becomes_a_processing_error(run_alg, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="GeoTIFF"):
        run_alg("geoml:alignrasters", {"INPUTS": [str(GRIDS / "dem.tif")], "OUTPUT": str(tmp_path / "x.asc")})
    assert not list(tmp_path.iterdir())


def test_cancelled_run_returns_nothing_and_leaves_no_file(geoml_provider, tmp_path):
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    alg = geoml_provider.algorithm("alignrasters").create()
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    out = tmp_path / "c.tif"
    params = {"INPUTS": [str(GRIDS / "dem.tif")], "RESAMPLING": 1, "OUTPUT": str(out)}
    context = QgsProcessingContext()
    assert alg.prepare(params, context, feedback)
    assert alg.processAlgorithm(params, context, feedback) == {}
    assert not list(tmp_path.iterdir())


def test_point_layer_reads_into_core_points(qgis_app):
    from qgis.core import QgsVectorLayer

    from geoml_qgis.algorithms.common.qgisio import source_to_points

    layer = QgsVectorLayer(str(SAMPLE / "meuse" / "meuse.gpkg"), "meuse", "ogr")
    pts = source_to_points(layer, ["zinc", "om"])
    assert len(pts) == 155 and pts.z is None
    assert pts.x[0] == 181072 and pts.y[0] == 333611 and pts.attributes["zinc"][0] == 1022
    assert "28992" in pts.crs_wkt
