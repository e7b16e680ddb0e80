"""The demo's deliverables as a user meets them: a styled project, rendered maps, desktop QGIS."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from .conftest import ROOT, SAMPLE


def test_project_has_valid_styled_layers_and_maps(run_alg, tmp_path):
    from qgis.core import QgsProject, QgsRasterLayer
    from qgis.PyQt.QtGui import QImage

    from geoml_qgis.mapping import build_project, render_group_maps

    stack = tmp_path / "stack.tif"
    grids = SAMPLE / "meuse" / "grids"
    run_alg("geoml:alignrasters", {"INPUTS": [str(grids / "dem.tif"), str(grids / "dist.tif")], "OUTPUT": str(stack)})
    project = build_project({"Stack": [stack], "Samples": [SAMPLE / "meuse" / "meuse.gpkg"]}, tmp_path / "p.qgz")
    maps = render_group_maps(project, tmp_path)
    assert [m.name for m in maps] == ["map_stack.png", "map_samples.png"]
    image = QImage(str(maps[0]))
    # the map is not blank: the rendered raster covers a good share of the page in many colours
    pixels = np.array([image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)])
    assert len(np.unique(pixels)) > 50

    reread = QgsProject()
    assert reread.read(str(tmp_path / "p.qgz"))
    layers = list(reread.mapLayers().values())
    assert len(layers) == 2 and all(layer.isValid() for layer in layers)
    raster = next(layer for layer in layers if isinstance(layer, QgsRasterLayer))
    assert raster.renderer().type() == "singlebandpseudocolor"
    assert [g.name() for g in reread.layerTreeRoot().children()] == ["Stack", "Samples"]


def test_desktop_qgis_starts_with_the_plugin(tmp_path):
    status_file = tmp_path / "status.json"
    subprocess.run([str(ROOT / "scripts" / "qgis-desktop"), str(status_file)], check=True, timeout=240)
    status = json.loads(status_file.read_text())
    assert status["active"] and status["init_gui"] and status["provider"]
    assert "geoml:alignrasters" in status["algorithms"] and status["toolbox_expanded"]
