"""The QGIS plugin object: registers the GeoML Processing provider and a Plugins menu entry."""
from __future__ import annotations

from pathlib import Path

from qgis.core import QgsApplication

from .installer import pip
from .provider import GeoMLProvider

MENU = "&GeoML"


class GeoMLPlugin:
    """Registers the provider for desktop QGIS (``initGui``) and ``qgis_process`` (``initProcessing``)."""

    def __init__(self, iface=None):
        self.iface = iface
        self.provider: GeoMLProvider | None = None
        self.menu_action = None
        self.install_action = None
        # packages installed from the plugin menu live in this profile's folder (qgis_process too)
        pip.activate(pip.packages_base(QgsApplication.qgisSettingsDirPath()))

    def initProcessing(self) -> None:  # noqa: N802 - QGIS API
        if self.provider is None:
            self.provider = GeoMLProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802 - QGIS API
        self.initProcessing()
        if self.iface is None:
            return
        from qgis.PyQt.QtGui import QIcon
        from qgis.PyQt.QtWidgets import QAction

        self.menu_action = QAction(QIcon(str(Path(__file__).with_name("icon.svg"))), "GeoML algorithms…",
                                   self.iface.mainWindow())
        self.menu_action.triggered.connect(self.show_algorithms)
        self.iface.addPluginToMenu(MENU, self.menu_action)
        self.install_action = QAction("Install Python packages…", self.iface.mainWindow())
        self.install_action.triggered.connect(self.show_installer)
        self.iface.addPluginToMenu(MENU, self.install_action)

    def show_installer(self) -> None:
        """The dialog that lists and installs the optional packages (torch, pykrige, ...)."""
        from .installer.dialog import InstallDialog

        InstallDialog(self.iface.mainWindow()).exec()

    def show_algorithms(self) -> None:
        """Open the Processing toolbox filtered to GeoML's algorithms."""
        from qgis.PyQt.QtWidgets import QDockWidget, QLineEdit

        dock = self.iface.mainWindow().findChild(QDockWidget, "ProcessingToolbox")
        if dock is None:
            return
        dock.show()
        dock.raise_()
        search = dock.findChild(QLineEdit)
        if search is not None:
            search.setText("geoml")

    def unload(self) -> None:
        if self.iface is not None:
            for action in (self.menu_action, self.install_action):
                if action is not None:
                    self.iface.removePluginMenu(MENU, action)
        self.menu_action = self.install_action = None
        if self.provider is not None:
            # by id: the registry owns the provider object and may already have replaced its wrapper
            QgsApplication.processingRegistry().removeProvider(GeoMLProvider.ID)
            self.provider = None
