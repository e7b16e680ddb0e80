"""core.blas: which BLAS numpy runs on, read from the libraries the process really mapped."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from geoml_qgis.core.blas import OPENBLAS_PACKAGE, blas_from_paths, blas_hint, debian_folders, numpy_blas

REFERENCE, OPENBLAS = debian_folders("reference"), debian_folders("openblas")


@pytest.mark.parametrize("paths, family", [
    # Debian without libopenblas0-pthread: netlib's libraries in the blas/ and lapack/ folders
    (["/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.12.1", "/usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3.12.1"],
     "reference"),
    # Debian with it: the same sonames in openblas-pthread/, plus OpenBLAS itself
    (["/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3",
      "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.29.so"], "openblas"),
    (["/venv/lib/python3.11/site-packages/numpy.libs/libscipy_openblas64_-ff651d7f.so"], "openblas"),  # pip wheel
    (["/opt/intel/lib/libmkl_rt.so.2"], "mkl"),
    (["/usr/lib64/libflexiblas.so.3.4"], "flexiblas"),
    # reference LAPACK beside OpenBLAS's BLAS: part of the work runs on the slow one
    (["/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3", "/usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3"],
     "reference"),
    (["/usr/lib/x86_64-linux-gnu/libgdal.so.32", "/usr/lib/x86_64-linux-gnu/libblasfeo.a"], "unknown"),
])
def test_family_from_mapped_libraries(paths, family):
    assert blas_from_paths(paths) == family


def test_agrees_with_threadpoolctl_in_this_process():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    family = numpy_blas()
    seen = {info["internal_api"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"}
    if seen:
        assert family in seen
    elif sys.platform.startswith("linux"):  # threadpoolctl knows every optimised BLAS, not netlib's
        assert family in ("reference", "unknown")


def _child(folders: list[Path]) -> dict:
    code = ("import json; from geoml_qgis.core.blas import numpy_blas, blas_hint; "
            "print(json.dumps({'family': numpy_blas(), 'hint': blas_hint()}))")
    env = {"LD_LIBRARY_PATH": ":".join(map(str, folders)), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    return json.loads(out.stdout)


@pytest.mark.skipif(not all((f / f"lib{f.name}.so.3").exists() for f in REFERENCE),
                    reason="Debian's reference BLAS/LAPACK (libblas3, liblapack3) not installed")
def test_reference_blas_is_recognised_and_names_the_package():
    got = _child(REFERENCE)
    assert got["family"] == "reference"
    assert OPENBLAS_PACKAGE in got["hint"] and "restart QGIS" in got["hint"]


@pytest.mark.skipif(not (OPENBLAS[0] / "libblas.so.3").exists(), reason=f"{OPENBLAS_PACKAGE} not installed")
def test_openblas_gives_no_hint():
    got = _child(OPENBLAS)
    assert got == {"family": "openblas", "hint": None}


def test_hint_only_for_the_reference_libraries(tmp_path):
    maps = tmp_path / "maps"
    assert numpy_blas(str(maps)) == "unknown" and blas_hint(str(maps)) is None  # unreadable: no /proc
    line = "7f0a1c000000-7f0a1c020000 r-xp 00002000 fe:01 1234  {}\n"
    maps.write_text(line.format("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.12.1") + "7ffd0000-7ffd1000 rw-p 0 0 0 [stack]\n")
    assert numpy_blas(str(maps)) == "reference"
    assert (blas_hint(str(maps)) is not None) == sys.platform.startswith("linux")
    maps.write_text(line.format("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"))
    assert blas_hint(str(maps)) is None
