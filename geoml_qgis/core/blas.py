"""Which BLAS and LAPACK numpy runs on, and a hint where they are the slow reference ones.

Debian's numpy (QGIS's on Debian and Ubuntu) links the generic ``libblas.so.3`` and
``liblapack.so.3``; the system's alternatives decide which libraries those are. ``apt install qgis``
brings only the reference (netlib) ones: unoptimised, one thread. With ``libopenblas0-pthread``
installed they become OpenBLAS, and numpy's matrix products and small LU solves run faster: on the
reference libraries ordinary kriging takes 1.3x as long, the Spectral Angle Mapper 12-13x and
k-means with PCA 1.3-2.4x (``bench/blas.py``, Debian 12 and 13). pip's numpy wheels bundle
OpenBLAS; QGIS on Windows and macOS ships an optimised BLAS too. Only Linux is inspected
(``/proc/self/maps``): elsewhere the answer is "unknown" and no hint is given.
"""
from __future__ import annotations

import os
import re
import sys
import sysconfig
from pathlib import Path
from typing import Iterable

#: the Debian package that makes ``libblas.so.3`` and ``liblapack.so.3`` OpenBLAS
OPENBLAS_PACKAGE = "libopenblas0-pthread"
#: Debian's folders, in its multiarch library folder, of each family's ``libblas.so.3`` / ``liblapack.so.3``
DEBIAN_FOLDERS = {"reference": ("blas", "lapack"), "openblas": ("openblas-pthread",)}

_LIBRARY = re.compile(r"/(lib(?:open|scipy_open|flexi)?blas|liblapack|libmkl_rt|libblis)[^/]*\.so[^/]*$")


def blas_from_paths(paths: Iterable[str]) -> str:
    """The BLAS family of the shared libraries *paths* a process has mapped.

    ``"openblas"``, ``"mkl"``, ``"blis"``, ``"flexiblas"`` (a switch whose backend is not known here),
    ``"reference"`` (netlib's ``libblas.so.3`` / ``liblapack.so.3``: Debian keeps them in the
    ``blas/`` and ``lapack/`` folders of the multiarch library folder) or ``"unknown"``.
    """
    found = set()
    for path in paths:
        match = _LIBRARY.search(path)
        if not match:
            continue
        name, folder = match.group(1), os.path.basename(os.path.dirname(path))
        if "openblas" in name or "openblas" in folder:
            found.add("openblas")
        elif name == "libmkl_rt":
            found.add("mkl")
        elif name == "libblis":
            found.add("blis")
        elif name == "libflexiblas":
            found.add("flexiblas")
        elif folder in DEBIAN_FOLDERS["reference"]:
            found.add("reference")
    # the slow one wins: part of the work runs on it
    for family in ("reference", "openblas", "mkl", "blis", "flexiblas"):
        if family in found:
            return family
    return "unknown"


def debian_folders(family: str) -> list[Path]:
    """The folders of *family*'s libraries on this Debian system (for ``LD_LIBRARY_PATH``), e.g.
    ``/usr/lib/x86_64-linux-gnu/blas`` and ``.../lapack`` for ``"reference"``."""
    lib = Path("/usr/lib") / (sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu")
    return [lib / folder for folder in DEBIAN_FOLDERS[family]]


def numpy_blas(maps: str = "/proc/self/maps") -> str:
    """The BLAS family numpy uses in this process (see :func:`blas_from_paths`), from the process's
    memory map *maps*; ``"unknown"`` where that cannot be read (off Linux)."""
    import numpy.linalg  # noqa: F401 - maps numpy's BLAS and LAPACK

    try:
        with open(maps, encoding="utf-8", errors="replace") as lines:
            paths = {line.split(None, 5)[-1].strip() for line in lines if "/" in line}
    except OSError:
        return "unknown"
    return blas_from_paths(paths)


def blas_hint(maps: str = "/proc/self/maps") -> str | None:
    """A one-line hint when numpy runs on the reference BLAS (Linux), else None."""
    if not sys.platform.startswith("linux") or numpy_blas(maps) != "reference":
        return None
    return ("numpy uses the system's reference (unoptimised) BLAS and LAPACK: with OpenBLAS, kriging runs "
            "1.3x faster, clustering up to 2.4x and the Spectral Angle Mapper 12x. Install it with "
            f"`sudo apt install {OPENBLAS_PACKAGE}` and restart QGIS.")
