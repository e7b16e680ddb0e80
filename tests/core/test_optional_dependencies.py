"""The provider loads without torch, pykrige and spectral; algorithms needing them say how to install them."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from ..conftest import ROOT

SCRIPT = r"""
import importlib.abc, json, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "pykrige", "spectral"}:
            raise ImportError(f"No module named '{name}' (blocked for the test)")

sys.meta_path.insert(0, Block())
from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback
app = QgsApplication([], False)
app.initQgis()
from geoml_qgis.provider import GeoMLProvider
provider = GeoMLProvider()
QgsApplication.processingRegistry().addProvider(provider)
algs = provider.algorithms()
messages = {}
for alg in algs:
    if getattr(alg, "REQUIRES", ()):
        a = alg.create()
        try:
            a.processAlgorithm({}, QgsProcessingContext(), QgsProcessingFeedback())
        except QgsProcessingException as exc:
            messages[alg.id()] = str(exc)
print(json.dumps({"ids": [a.id() for a in algs], "needs": {a.id(): list(getattr(a, "REQUIRES", ())) for a in algs}, "messages": messages}))
"""


def test_provider_loads_and_explains_without_optional_packages():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "geoml:alignrasters" in result["ids"]
    for alg_id, needs in result["needs"].items():
        for package in needs:
            if package in {"torch", "pykrige", "spectral"}:
                message = result["messages"][alg_id]
                assert "pip install" in message and package in message
                assert "Plugins › GeoML › Install Python packages…" in message
