"""Runs inside desktop QGIS (``qgis --code``, driven by ``scripts/qgis-desktop`` with
``GEOML_PROBE``): opens *Plugins › GeoML › Install Python packages…* from the plugin menu, installs
the packages named in GEOML_INSTALL (comma-separated import names; the others are unticked) through
the dialog's own button, waits for the task, saves a screenshot of the dialog (GEOML_SHOT) and a
JSON status (GEOML_STATUS), and quits.
"""
import json
import os

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtWidgets import QApplication
from qgis.utils import iface, plugins

from geoml_qgis.installer.dialog import InstallDialog
from geoml_qgis.installer.pip import PACKAGES

wanted = [m for m in os.environ.get("GEOML_INSTALL", "").split(",") if m]
state = {"menu": [a.text() for a in iface.pluginMenu().actions()]}


def _dialog():
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, InstallDialog) and widget.isVisible():
            return widget
    return None


def _start():
    plugins["geoml_qgis"].install_action.trigger()  # exec(): returns when the dialog closes


def _install():
    dlg = _dialog()
    state["dialog"] = dlg is not None
    if dlg is None:
        return _quit()
    state["before"] = {dlg.table.item(r, 0).text(): dlg.table.item(r, 1).text() for r in range(dlg.table.rowCount())}
    for row, pkg in enumerate(PACKAGES):
        item = dlg.table.item(row, 0)
        if pkg.module not in wanted:
            item.setCheckState(Qt.CheckState.Unchecked)
    dlg.start()
    QTimer.singleShot(1000, _wait)


def _wait():
    dlg = _dialog()
    if dlg.task is not None:
        QTimer.singleShot(1000, _wait)
        return
    state["after"] = {dlg.table.item(r, 0).text(): dlg.table.item(r, 1).text() for r in range(dlg.table.rowCount())}
    state["log"] = [t for t in dlg.log.toPlainText().splitlines() if "is ignored" not in t]
    QTimer.singleShot(500, _shoot)


def _shoot():
    dlg = _dialog()
    if os.environ.get("GEOML_SHOT"):
        dlg.grab().save(os.environ["GEOML_SHOT"])
    dlg.reject()
    _quit()


def _quit():
    with open(os.environ["GEOML_STATUS"], "w") as fh:
        json.dump(state, fh, indent=1)
    QgsApplication.exit(0)


QTimer.singleShot(3000, _start)
QTimer.singleShot(5000, _install)
