"""QGIS fixtures: Processing initialised with the GeoML provider, and a qgis_process runner."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "geoml_qgis" / "sample_data"
LAUNCHER = ROOT / "scripts" / "geoml-qgis-process"
_ALIVE = []  # Python wrappers of registered providers must outlive the tests (as a plugin keeps its own)


def initialised_algorithms() -> list:
    """One initialised instance of every GeoML algorithm (keep the list alive while their parameters are used)."""
    from geoml_qgis.algorithms import algorithm_classes

    algs = []
    for cls in algorithm_classes():
        alg = cls()
        alg.initAlgorithm()
        algs.append(alg)
    return algs


def undeclared_outputs(alg_id: str, results: dict) -> list[str]:
    """Keys of a ``geoml:`` algorithm's result dictionary that it does not declare as outputs (the
    graphical modeler and ``qgis_process --json`` users can rely only on declared ones)."""
    from geoml_qgis.algorithms import algorithm_classes

    alg = {cls.NAME: cls for cls in algorithm_classes()}[alg_id.split(":", 1)[1]]()
    alg.initAlgorithm()
    return sorted(set(results) - {o.name() for o in alg.outputDefinitions()})


def check_declared(alg_id: str, results: dict) -> dict:
    """*results*, after failing the test if they hold an undeclared key (GeoML's own algorithms; the
    shipped graphical models return their children's bookkeeping too)."""
    from geoml_qgis.algorithms import algorithm_classes

    if alg_id in {f"geoml:{cls.NAME}" for cls in algorithm_classes()}:
        extra = undeclared_outputs(alg_id, results)
        assert not extra, f"{alg_id} returned undeclared output(s) {extra}; declare them with addOutput"
    return results


def recording_feedback():
    """A QgsProcessingFeedback that keeps what an algorithm tells the user: ``infos``, ``warnings``
    and ``errors`` (lists of the texts, in order); it reports them as usual too."""
    from qgis.core import QgsProcessingFeedback

    class Recording(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.infos, self.warnings, self.errors = [], [], []

        def pushInfo(self, text):  # noqa: N802 - QGIS API
            self.infos.append(text)
            super().pushInfo(text)

        def pushWarning(self, text):  # noqa: N802 - QGIS API
            self.warnings.append(text)
            super().pushWarning(text)

        def reportError(self, error, fatalError=False):  # noqa: N802,N803 - QGIS API
            self.errors.append(error)
            super().reportError(error, fatalError)

    return Recording()


@pytest.fixture
def geoml_provider(qgis_app, qgis_processing):
    """The GeoML provider registered in this QgsApplication's Processing registry."""
    from qgis.core import QgsApplication

    from geoml_qgis.provider import GeoMLProvider

    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("geoml")
    if provider is None:
        provider = GeoMLProvider()
        registry.addProvider(provider)
        _ALIVE.append(provider)
    return provider


@pytest.fixture
def run_alg(geoml_provider):
    """``run_alg("geoml:x", {...})`` through ``processing.run``."""
    if "/usr/share/qgis/python/plugins" not in sys.path:
        sys.path.append("/usr/share/qgis/python/plugins")
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProject

    def _run(alg_id, params, feedback=None):
        context = QgsProcessingContext()
        context.setProject(QgsProject.instance())
        results = processing.run(alg_id, params, feedback=feedback or QgsProcessingFeedback(), context=context)
        return check_declared(alg_id, results)

    return _run


@pytest.fixture(scope="session")
def qgis_process(tmp_path_factory):
    """Run the launcher (qgis_process.bin with the plugin) and return its parsed ``--json`` output."""
    profile = tmp_path_factory.mktemp("qgis-profile")

    def _run(alg_id, params: dict, timeout=600):
        args = [str(LAUNCHER), "run", alg_id, "--json", "--"]
        for key, value in params.items():
            for v in value if isinstance(value, (list, tuple)) else [value]:
                args.append(f"{key}={v}")
        env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(profile))
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"qgis_process failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        out = json.loads(proc.stdout[proc.stdout.index("{"):])
        check_declared(alg_id, out["results"])
        return out

    return _run


@pytest.fixture
def algorithm_dialog(geoml_provider, qgis_iface):
    """``algorithm_dialog("geoml:x")``: the Processing dialog a user opens from the toolbox (offscreen)."""
    if "/usr/share/qgis/python/plugins" not in sys.path:
        sys.path.append("/usr/share/qgis/python/plugins")
    from processing.gui.AlgorithmDialog import AlgorithmDialog
    from qgis.core import QgsApplication
    from qgis.gui import QgsBrowserGuiModel

    browser = QgsBrowserGuiModel()
    qgis_iface.browserModel = lambda: browser  # pytest-qgis's interface has none; the dialog asks for it
    opened = []

    def _open(alg_id, alg=None):
        alg = alg or QgsApplication.processingRegistry().createAlgorithmById(alg_id)
        dialog = AlgorithmDialog(alg, parent=qgis_iface.mainWindow())
        opened.append((alg, dialog))
        return dialog

    yield _open
    from qgis.PyQt import sip

    for _, dialog in opened:
        if not sip.isdeleted(dialog):  # a closed dialog deletes itself
            dialog.close()
