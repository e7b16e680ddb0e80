"""*GeoML › Install Python packages…*: status of the optional packages, and installing them.

The install runs as an :class:`~.task.InstallTask` in QGIS's task manager: the window stays
responsive, the progress bar follows pip, *Cancel* stops pip, and the log shows pip's own words.
"""
from __future__ import annotations

import importlib

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHBoxLayout,
                                 QHeaderView, QLabel, QPlainTextEdit, QProgressBar, QPushButton,
                                 QTableWidget, QTableWidgetItem, QVBoxLayout)

from ..core.blas import blas_hint
from . import pip
from .task import InstallTask

CHECKED, UNCHECKED = Qt.CheckState.Checked, Qt.CheckState.Unchecked


def profile_base():
    """This QGIS profile's packages folder."""
    return pip.packages_base(QgsApplication.qgisSettingsDirPath())


class InstallDialog(QDialog):
    """One row per optional package: tick the missing ones, *Install*, watch pip's log."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("GeoML — Install Python packages")
        self.resize(760, 520)
        self.task: InstallTask | None = None
        self.base = profile_base()
        intro = QLabel(
            "GeoML needs numpy, scipy, pandas and GDAL, which come with QGIS, and scikit-learn; "
            "the other packages enable more algorithms. Missing ones are installed with the "
            f"Python that runs QGIS into <tt>{self.base}</tt>; the packages QGIS already has are "
            "pinned, so nothing of QGIS is replaced. Restart not needed.")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        self.table = QTableWidget(len(pip.PACKAGES), 3)
        self.table.setHorizontalHeaderLabels(["Package", "Status", "Needed for"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setPlaceholderText("pip's output appears here.")
        self.install_button = QPushButton("Install selected")
        self.install_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel install")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.install_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        for widget in (intro, self.table, self.progress, self.log):
            layout.addWidget(widget)
        hint = blas_hint()  # a system package, not pip's: said here, not installed
        self.blas_note = QLabel(hint or "")
        self.blas_note.setWordWrap(True)
        self.blas_note.setVisible(bool(hint))
        layout.insertWidget(2, self.blas_note)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        """Fill the table from what imports now."""
        importlib.invalidate_caches()
        versions = pip.status()
        for row, pkg in enumerate(pip.PACKAGES):
            name = QTableWidgetItem(pkg.requirement)
            version = versions[pkg.module]
            name.setFlags(Qt.ItemFlag.ItemIsEnabled | (Qt.ItemFlag.ItemIsUserCheckable if version is None
                                                        else Qt.ItemFlag.NoItemFlags))
            name.setCheckState(CHECKED if version is None else UNCHECKED)
            state = QTableWidgetItem("missing" if version is None else f"installed {version}".strip())
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, state)
            self.table.setItem(row, 2, QTableWidgetItem(pkg.purpose))
        self.install_button.setEnabled(self.task is None and None in versions.values())

    def selected(self) -> list[pip.Package]:
        return [pkg for row, pkg in enumerate(pip.PACKAGES)
                if self.table.item(row, 0).checkState() == CHECKED]

    def start(self) -> None:
        packages = self.selected()
        if not packages:
            return
        try:
            python = pip.find_python()
        except FileNotFoundError as exc:
            self.log.appendPlainText(str(exc))
            return
        self.log.clear()
        self.log.appendPlainText(f"Python: {python}\nFolder: {self.base}")
        self.task = InstallTask(packages, python, self.base)
        self.task.line.connect(self.log.appendPlainText)
        self.task.progressChanged.connect(lambda value: self.progress.setValue(int(value)))
        self.task.taskCompleted.connect(self.finished_install)
        self.task.taskTerminated.connect(self.finished_install)
        self.install_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        QgsApplication.taskManager().addTask(self.task)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.log.appendPlainText("Cancelling…")

    def finished_install(self) -> None:
        task, self.task = self.task, None
        pip.activate(self.base)
        self.cancel_button.setEnabled(False)
        failed = {m: why for m, why in (task.results if task else {}).items() if why}
        for module in sorted((task.results if task else {})):
            why = failed.get(module)
            self.log.appendPlainText(f"{module}: " + ("OK, imports" if not why else f"FAILED\n{why}"))
        self.refresh()
        if task is not None and not failed and len(task.results) == len(task.packages):
            self.progress.setValue(100)

    def reject(self) -> None:
        if self.task is not None:
            self.cancel()
        super().reject()
