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


def test_the_check_sees_a_wide_widget(algorithm_dialog, qgis_app):
    """The measure is real: a widget wider than the panel is reported."""
    from qgis.PyQt.QtWidgets import QScrollArea, QWidget

    dialog = algorithm_dialog("geoml:weightsofevidencetable")
    assert not _overflow(dialog, qgis_app)
    content = dialog.mainWidget().findChildren(QScrollArea)[0].widget()
    wide = QWidget(content)
    wide.setMinimumWidth(2000)
    content.layout().addWidget(wide)
    assert _overflow(dialog, qgis_app)


def test_a_long_label_widens_the_panel_on_qgis_322(algorithm_dialog, qgis_app):
    """What made four dialogs too wide: QGIS 3.22 sizes the panel to its longest label (later
    releases wrap labels, so this cannot happen there)."""
    from qgis.core import Qgis, QgsApplication

    if Qgis.QGIS_VERSION_INT >= 34000:
        pytest.skip("QGIS 3.40 and later wrap long labels")
    alg = QgsApplication.processingRegistry().createAlgorithmById("geoml:weightsofevidencetable")
    alg.parameterDefinition("OUTPUT_REPORT").setDescription(
        "A label far longer than any dialog of a standard width can show without scrolling")
    assert _overflow(algorithm_dialog("geoml:weightsofevidencetable", alg), qgis_app)
