"""Runs inside desktop QGIS (``qgis --code``, driven by ``scripts/qgis-desktop`` with
``GEOML_PROBE``): opens the Processing dialogs of three GeoML algorithms the way the toolbox does,
on the bundled sample layers, saves a screenshot of each and writes a JSON status (whether the
parameters panel needed a horizontal scrollbar, the fields the dialog picked), then quits.

Paths come from the environment: GEOML_STATUS (JSON) and GEOML_SHOT (a folder for the PNGs).
"""
import json
import os
from pathlib import Path

from qgis.core import QgsApplication, QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QScrollArea
from qgis.utils import iface

import geoml_qgis  # noqa: E402 - the plugin as QGIS loaded it

SAMPLE = Path(geoml_qgis.__file__).resolve().parent / "sample_data"  # (qgis --code defines no __file__)
DIALOGS = {  # algorithm -> (PNG name, layer to have in the project, parameters whose values are reported)
    "geoml:ordinarykriging": ("dialog_ordinary_kriging.png", SAMPLE / "meuse" / "meuse.gpkg", ["FIELD"]),
    "geoml:boreholeclustering": ("dialog_borehole_clustering.png", SAMPLE / "boreholes" / "synthetic_assays.csv",
                                 ["HOLE_FIELD", "FROM_FIELD", "TO_FIELD"]),
    "geoml:trainprospectivity": ("dialog_train_prospectivity.png",
                                 SAMPLE / "yukon_porphyry" / "02_Train_PCA.csv", ["LABEL_FIELD", "METHOD"]),
}


def _layer(path: Path) -> QgsVectorLayer:
    uri = f"file://{path}?delimiter=,&geomType=none" if path.suffix == ".csv" else str(path)
    layer = QgsVectorLayer(uri, path.stem, "delimitedtext" if path.suffix == ".csv" else "ogr")
    QgsProject.instance().addMapLayer(layer)
    iface.setActiveLayer(layer)
    return layer


def _shoot_all():
    import processing

    out = Path(os.environ["GEOML_SHOT"])
    out.mkdir(parents=True, exist_ok=True)
    from qgis.core import Qgis

    status = {"qgis": Qgis.version()}
    for alg_id, (png, path, report) in DIALOGS.items():
        QgsProject.instance().removeAllMapLayers()
        _layer(path)
        dialog = processing.createAlgorithmDialog(alg_id, {})
        dialog.show()
        dialog.resize(dialog.width(), 960)  # the width QGIS opens it with; taller, to show more parameters
        QgsApplication.processEvents()
        area = dialog.mainWidget().findChildren(QScrollArea)[0]
        wrappers = dialog.mainWidget().wrappers
        status[alg_id] = {
            "png": png,
            "horizontal_scrollbar": area.horizontalScrollBar().isVisible(),
            "content_min_width": area.widget().minimumSizeHint().width(),
            "visible_width": area.viewport().width(),
            "values": {n: str(wrappers[n].parameterValue()) for n in report},
        }
        dialog.grab().save(str(out / png))
        dialog.close()
    Path(os.environ["GEOML_STATUS"]).write_text(json.dumps(status, indent=1))
    QgsApplication.exit(0)


QTimer.singleShot(int(os.environ.get("GEOML_START_WAIT_MS", "3000")), _shoot_all)
