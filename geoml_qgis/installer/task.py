"""The background task that runs pip for the *Install Python packages* dialog.

The worker thread touches no QGIS object: it runs pip in a subprocess and reports through
``setProgress`` and the ``line`` signal (queued into the GUI thread by Qt).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

from qgis.core import QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from . import pip


class InstallTask(QgsTask):
    """Install *packages* one after the other, then import each to verify.

    After it finished, ``results`` maps each import name to ``""`` (imports) or to pip's or
    Python's own words on what failed.
    """

    line = pyqtSignal(str)

    def __init__(self, packages: Sequence[pip.Package], python: Path, base: Path):
        super().__init__("GeoML: installing Python packages", QgsTask.Flag.CanCancel)
        self.packages = list(packages)
        self.python = python
        self.base = base
        self.results: dict[str, str] = {}

    def run(self) -> bool:  # worker thread
        self.base.mkdir(parents=True, exist_ok=True)
        env = pip.pip_env(self.base)
        with tempfile.TemporaryDirectory() as tmp:
            pins = Path(tmp) / "constraints.txt"
            pins.write_text(pip.constraints(exclude=[pip.site_dir(self.base)]))
            n = len(self.packages)
            for i, pkg in enumerate(self.packages):
                if self.isCanceled():
                    break
                self.setProgress(100.0 * i / (n + 1))
                cmd = pip.pip_command(self.python, pkg, pins)
                self.line.emit("$ " + " ".join(cmd))
                output: list[str] = []

                def on_line(text: str, i=i) -> None:
                    output.append(text)
                    self.line.emit(text)
                    step = 0.5 if text.startswith(("Downloading", "Collecting")) else 0.8 \
                        if text.startswith("Installing collected") else 0.2
                    self.setProgress(100.0 * (i + step) / (n + 1))

                code = pip.run_pip(cmd, env, on_line, self.isCanceled)
                if code == -1:
                    self.results[pkg.module] = "cancelled"
                    break
                if code != 0:
                    words = [t for t in output if t.startswith("ERROR")] or output[-5:]
                    self.results[pkg.module] = "\n".join(words) or f"pip exit code {code}"
        todo = [p.module for p in self.packages if p.module not in self.results]
        if todo and not self.isCanceled():
            self.line.emit("Checking that each package imports…")
            self.results.update(pip.verify(self.python, self.base, todo))
        self.setProgress(100.0)
        return not self.isCanceled() and not any(self.results.values())
