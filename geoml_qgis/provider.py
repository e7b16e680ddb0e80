"""The GeoML Processing provider (id ``geoml``)."""
from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProcessingModelAlgorithm, QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from . import __version__
from .algorithms import algorithm_classes

MODELS = Path(__file__).with_name("models")


class GeoMLProvider(QgsProcessingProvider):
    """Holds every GeoML algorithm; optional packages are only imported when an algorithm runs."""

    ID = "geoml"

    def id(self) -> str:
        return self.ID

    def name(self) -> str:
        return "GeoML"

    def longName(self) -> str:  # noqa: N802 - QGIS API
        return f"GeoML — geoscience machine learning ({__version__})"

    def icon(self) -> QIcon:
        return QIcon(str(Path(__file__).with_name("icon.svg")))

    def versionInfo(self) -> str:  # noqa: N802 - QGIS API
        return __version__

    def loadAlgorithms(self) -> None:  # noqa: N802 - QGIS API
        for cls in algorithm_classes():
            self.addAlgorithm(cls())
        for path in sorted(MODELS.glob("*.model3")):  # graphical-modeler workflows shipped with the plugin
            model = QgsProcessingModelAlgorithm()
            if model.fromFile(str(path)):
                self.addAlgorithm(model)
