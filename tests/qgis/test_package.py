"""`make package`: the zip the QGIS plugin repository takes, checked by a repository checker from
the package index, and installed into a clean QGIS profile from which one algorithm runs."""
from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT, SAMPLE

REQUIRED = ("name", "qgisMinimumVersion", "qgisMaximumVersion", "description", "about", "version",
            "author", "email", "repository", "tracker", "homepage", "changelog", "tags")


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(["make", "-s", "package", f"DIST={dist}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    (zip_path,) = dist.glob("geoml_qgis-*.zip")
    return zip_path


@pytest.fixture(scope="module")
def unpacked(plugin_zip, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(plugin_zip) as zf:
        zf.extractall(out)
    return out / "geoml_qgis"


def test_zip_holds_one_clean_plugin_folder_with_licence_and_metadata(plugin_zip, unpacked):
    names = zipfile.ZipFile(plugin_zip).namelist()
    assert {n.split("/")[0] for n in names} == {"geoml_qgis"}
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo")) or ".egg-info" in n]
    assert "GNU GENERAL PUBLIC LICENSE" in (unpacked / "LICENSE").read_text()
    meta = configparser.ConfigParser()
    meta.read(unpacked / "metadata.txt", encoding="utf-8")
    general = meta["general"]
    assert not [k for k in REQUIRED if not general.get(k, "").strip()]
    assert general["qgisMinimumVersion"] == "3.22" and general["qgisMaximumVersion"].startswith("4.")
    assert plugin_zip.name == f"geoml_qgis-{general['version']}.zip"
    assert (unpacked / general["icon"]).is_file()


def test_plugin_repository_checker_accepts_the_zip(unpacked, tmp_path):
    analyzer = shutil.which("qgis-analyzer", path=str(Path(os.sys.executable).parent))
    assert analyzer, "qgis-plugin-analyzer is not installed (make setup installs the dev extra)"
    proc = subprocess.run([analyzer, "analyze", str(unpacked), "--json", "--linters", "none", "--no-cache",
                           "-o", str(tmp_path / "report")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout[proc.stdout.index("{"):])
    repo = report["repository_compliance"]
    assert repo["is_compliant"], repo
    assert repo["folder_name_valid"] and not repo["binaries"] and not repo["constraint_errors"]
    assert report["security"]["count"] == 0, report["security"]["findings"]


@pytest.mark.qgis_process
def test_zip_installs_into_a_clean_profile_and_runs_an_algorithm(unpacked, tmp_path):
    """As a user would: the unpacked zip in a fresh profile's plugin folder, `qgis_process plugins
    enable`, then an algorithm run (GeoML's own launcher is not used)."""
    profile = tmp_path / "config"
    plugins = profile / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    shutil.copytree(unpacked, plugins / "geoml_qgis")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in ("QGIS_PLUGINPATH", "PYTHONPATH")}
    env.update(QGIS_CUSTOM_CONFIG_PATH=str(profile), XDG_RUNTIME_DIR=str(runtime), QT_QPA_PLATFORM="offscreen")
    site = subprocess.run([os.sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True).stdout.strip()
    env["PYTHONPATH"] = site  # the venv's packages, as a user's pip install would provide them
    qp = "/usr/bin/qgis_process.bin" if Path("/usr/bin/qgis_process.bin").exists() else "qgis_process"
    enable = subprocess.run([qp, "plugins", "enable", "geoml_qgis"], env=env, capture_output=True, text=True,
                            timeout=300)
    assert enable.returncode == 0, enable.stdout[-2000:] + enable.stderr[-2000:]
    points = SAMPLE / "meuse" / "meuse.gpkg"
    run = subprocess.run([qp, "run", "geoml:fitvariogram", "--json", "--", f"INPUT={points}", "FIELD=zinc",
                          "VARIOGRAM_MODEL=1", f"OUTPUT_MODEL={tmp_path / 'vg.json'}", f"OUTPUT_REPORT={tmp_path / 'vg.html'}"],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(run.stdout[run.stdout.index("{"):])
    model = json.loads(Path(result["results"]["OUTPUT_MODEL"]).read_text())
    assert model["kind"] == "spherical" and model["sill"] > model["nugget"] >= 0 and model["range"] > 0
    assert "data:image/png;base64" in (tmp_path / "vg.html").read_text()
