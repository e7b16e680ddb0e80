"""The QGIS plugin object: registers the GeoML Processing provider."""
from __future__ import annotations

from qgis.core import QgsApplication

from .provider import GeoMLProvider


class GeoMLPlugin:
    """Registers the provider for desktop QGIS (``initGui``) and ``qgis_process`` (``initProcessing``)."""

    def __init__(self, iface=None):
        self.iface = iface
        self.provider: GeoMLProvider | None = None

    def initProcessing(self) -> None:  # noqa: N802 - QGIS API
        if self.provider is None:
            self.provider = GeoMLProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802 - QGIS API
        self.initProcessing()

    def unload(self) -> None:
        if self.provider is not None:
            # by id: the registry owns the provider object and may already have replaced its wrapper
            QgsApplication.processingRegistry().removeProvider(GeoMLProvider.ID)
            self.provider = None
