"""*Plugins › GeoML › Install Python packages…*: finding QGIS's Python, pinning QGIS's packages,
and a real install from the package index through the QgsTask, imported afterwards."""
from __future__ import annotations

import importlib
import re
import sys
import time
from pathlib import Path

import pytest

from geoml_qgis.installer import pip

NETWORK_DOWN = re.compile(r"NewConnectionError|Max retries exceeded|Temporary failure in name resolution|"
                          r"ProxyError|Network is unreachable|No matching distribution found for text-unidecode")


def test_interpreter_candidates_per_platform(tmp_path):
    win = pip.python_candidates(r"C:\OSGeo4W\bin\qgis-bin.exe", r"C:\OSGeo4W\apps\Python312", "win32")
    assert Path(r"C:\OSGeo4W\apps\Python312") / "python.exe" == win[0]
    mac = pip.python_candidates("/Applications/QGIS-LTR.app/Contents/MacOS/QGIS",
                                "/Applications/QGIS-LTR.app/Contents/Frameworks/Python.framework", "darwin")
    assert mac[0].parent == Path("/Applications/QGIS-LTR.app/Contents/MacOS/bin")
    linux = pip.python_candidates("/usr/bin/qgis", "/usr", "linux")
    assert linux[0] == Path(f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}")
    # the interpreter must be this very Python: another installation of the same version is skipped
    other = tmp_path / "python3"
    other.write_text(f"#!/bin/sh\necho {sys.version_info[0]}.{sys.version_info[1]} /opt/other-python\n")
    other.chmod(0o755)
    found = pip.find_python([tmp_path / "missing", other, Path(sys.executable)])
    assert found == Path(sys.executable)
    with pytest.raises(FileNotFoundError, match="QGIS's Python"):
        pip.find_python([other])


def test_constraints_pin_what_qgis_has_and_torch_comes_from_the_cpu_index(tmp_path):
    import numpy
    from osgeo import gdal

    pins = dict(line.split("==") for line in pip.constraints().splitlines())
    assert pins["numpy"] == numpy.__version__
    assert pins["gdal"] == gdal.__version__
    torch = next(p for p in pip.PACKAGES if p.module == "torch")
    for platform in ("linux", "win32"):
        cmd = pip.pip_command(Path("/py"), torch, tmp_path / "c.txt", platform)
        assert cmd[cmd.index("--index-url") + 1] == pip.TORCH_CPU_INDEX and "--user" in cmd
    assert "--index-url" not in pip.pip_command(Path("/py"), torch, tmp_path / "c.txt", "darwin")


def test_install_task_installs_from_the_index_and_refuses_to_replace_numpy(qgis_app, tmp_path):
    """The Linux path for real: QGIS's Python, a per-profile folder, the QgsTask in QGIS's task
    manager; then the package imports in this (headless QGIS) process."""
    from qgis.core import QgsApplication, QgsTask

    from geoml_qgis.installer.task import InstallTask

    small = pip.Package("text_unidecode", "text-unidecode==1.3", "test: a small pure-Python package")
    numpy_up = pip.Package("numpy", "numpy==1.26.4" if not __import__("numpy").__version__.startswith(
        "1.26") else "numpy==2.2.4", "test: pip must not replace QGIS's numpy")
    base = tmp_path / "profile" / "python" / "geoml-packages"
    task = InstallTask([small, numpy_up], pip.find_python(), base)
    lines: list[str] = []
    task.line.connect(lines.append)
    QgsApplication.taskManager().addTask(task)
    deadline = time.monotonic() + 300
    while task.status() not in (QgsTask.TaskStatus.Complete, QgsTask.TaskStatus.Terminated):
        QgsApplication.processEvents()
        time.sleep(0.05)
        assert time.monotonic() < deadline, "\n".join(lines[-20:])
    QgsApplication.processEvents()
    log = "\n".join(lines)
    if NETWORK_DOWN.search(log):
        pytest.skip("the package index is not reachable from this machine")
    assert task.results["text_unidecode"] == "", log
    assert "numpy" in task.results["numpy"] and task.results["numpy"], log  # pip's own words
    site = pip.activate(base)
    try:
        assert site.is_relative_to(base)
        importlib.invalidate_caches()
        mod = importlib.import_module("text_unidecode")
        assert mod.unidecode("Grünstein") == "Grunstein"
        assert Path(mod.__file__).is_relative_to(base)
        import numpy
        assert not Path(numpy.__file__).is_relative_to(base)
        assert not list(base.rglob("numpy"))
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("text_unidecode", None)


@pytest.mark.parametrize("hint", [None, "numpy uses the system's reference BLAS: sudo apt install libopenblas0-pthread"])
def test_dialog_shows_the_reference_blas_hint_only_when_there_is_one(qgis_app, monkeypatch, hint):
    from geoml_qgis.installer import dialog

    monkeypatch.setattr(dialog, "blas_hint", lambda: hint)
    window = dialog.InstallDialog()
    assert window.blas_note.isVisibleTo(window) == (hint is not None)
    assert window.blas_note.text() == (hint or "")
