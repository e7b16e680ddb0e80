"""Every GeoML dialog fits its frame: no horizontal scrollbar in the parameters panel at the size the
Processing dialog opens with (long labels and widgets widened four dialogs past it)."""
from __future__ import annotations

import pytest


def _algorithm_ids():
    from geoml_qgis.algorithms import algorithm_classes

    return [f"geoml:{cls.NAME}" for cls in algorithm_classes()]


def _overflow(dialog, app) -> list[str]:
    """What in the dialog's parameters panel is wider than the panel's visible width."""
    from qgis.PyQt.QtWidgets import QLabel, QScrollArea, QWidget

    dialog.show()
    app.processEvents()
    area = dialog.mainWidget().findChildren(QScrollArea)[0]
    content, visible = area.widget(), area.viewport().width()
    if content.minimumSizeHint().width() <= visible:
        return []
    margin = content.minimumSizeHint().width() - max(
        c.minimumSizeHint().width() for c in content.findChildren(QWidget) if c.parent() is content)
    return [f"{c.text() if isinstance(c, QLabel) else type(c).__name__} ({c.minimumSizeHint().width()} px)"
            for c in content.findChildren(QWidget)
            if c.parent() is content and c.minimumSizeHint().width() + margin > visible] or ["(layout)"]


def test_every_dialog_fits_its_frame(algorithm_dialog, qgis_app):
    wide = {}
    for alg_id in _algorithm_ids():
        dialog = algorithm_dialog(alg_id)
        too_wide = _overflow(dialog, qgis_app)
        dialog.close()
        if too_wide:
            wide[alg_id] = too_wide
    assert not wide, f"wider than the dialog (shorten the label, put the detail in setHelp): {wide}"


@pytest.mark.parametrize("alg_id", ["geoml:weightsofevidencetable"])
def test_the_check_sees_a_long_label(algorithm_dialog, qgis_app, alg_id):
    """The measure is real: a label made long on purpose makes the dialog too wide."""
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    assert not _overflow(algorithm_dialog(alg_id), qgis_app)
    alg.parameterDefinition("OUTPUT_REPORT").setDescription(
        "A label far longer than any dialog of a standard width can show without scrolling")
    assert _overflow(algorithm_dialog(alg_id, alg), qgis_app)
