"""Runs inside desktop QGIS (``qgis --code``): checks the plugin, shows the GeoML toolbox group,
saves a screenshot of the main window, writes a JSON status and quits.

Driven by ``scripts/qgis-desktop``; paths come from the environment (GEOML_SHOT, GEOML_STATUS).
"""
import json
import os

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QDockWidget, QTreeView
from qgis.utils import active_plugins, iface, plugins


def _expand_geoml(dock) -> bool:
    for view in dock.findChildren(QTreeView):
        model = view.model()
        for row in range(model.rowCount()):
            index = model.index(row, 0)
            if "GeoML" in str(model.data(index)):
                view.expand(index)
                for child in range(model.rowCount(index)):
                    view.expand(model.index(child, 0, index))
                view.scrollTo(index)
                return True
    return False


def _finish():
    provider = QgsApplication.processingRegistry().providerById("geoml")
    plugin = plugins.get("geoml_qgis")
    dock = iface.mainWindow().findChild(QDockWidget, "ProcessingToolbox")
    if iface.mapCanvas().layers():
        iface.mapCanvas().zoomToFullExtent()
    expanded = False
    if dock is not None:
        dock.show()
        dock.raise_()
        expanded = _expand_geoml(dock)
    status = {
        "active": "geoml_qgis" in active_plugins,
        "init_gui": bool(plugin is not None and getattr(plugin, "menu_action", None) is not None),
        "provider": provider is not None,
        "algorithms": sorted(a.id() for a in provider.algorithms()) if provider else [],
        "toolbox_expanded": expanded,
        "layers": len(iface.mapCanvas().layers()),
    }

    def _shoot():
        shot = os.environ.get("GEOML_SHOT")
        if shot:
            iface.mainWindow().grab().save(shot)
        with open(os.environ["GEOML_STATUS"], "w") as fh:
            json.dump(status, fh)
        QgsApplication.exit(0)

    QTimer.singleShot(int(os.environ.get("GEOML_RENDER_WAIT_MS", "4000")), _shoot)


iface.mainWindow().showMaximized()
QTimer.singleShot(int(os.environ.get("GEOML_START_WAIT_MS", "3000")), _finish)
