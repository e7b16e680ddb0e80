"""Install GeoML's optional Python packages into the Python that runs QGIS, safely.

No qgis import here: the QGIS task and dialog (``task.py``, ``dialog.py``) call these functions.

- :func:`find_python` finds the interpreter: inside QGIS ``sys.executable`` is the QGIS program,
  not Python (OSGeo4W and the standalone installer: ``apps/PythonXY/python.exe``; macOS:
  ``QGIS.app/Contents/MacOS/bin/python3``; Linux: ``/usr/bin/python3.X``).
- Packages go into a per-profile folder, used as pip's user base (``PYTHONUSERBASE`` +
  ``--user``): pip then installs only what QGIS's Python lacks, and the folder's site-packages
  directory is appended to ``sys.path`` (after QGIS's own, so nothing of QGIS is shadowed).
- Constraints pin every distribution QGIS's Python already has (numpy, scipy, pandas, GDAL, ...),
  so pip can add packages but never replace one: a replaced numpy breaks QGIS.
- torch comes from the PyTorch CPU index on Windows and Linux (PyPI's Linux wheels are CUDA
  builds of several gigabytes); macOS wheels on PyPI are CPU builds.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from importlib import metadata, util
from pathlib import Path
from typing import Callable, Iterable, Sequence


@dataclass(frozen=True)
class Package:
    """One optional package: its import name, pip requirement and what needs it."""

    module: str
    requirement: str
    purpose: str


PACKAGES = (
    Package("sklearn", "scikit-learn", "every model (Debian and OSGeo4W package it; some QGIS "
            "installers do not)"),
    Package("torch", "torch", "neural networks: hybrid kriging, borehole sequences, prospectivity, "
            "hyperspectral CNN, model files"),
    Package("pykrige", "pykrige", "reference kriging and its cross-checks"),
    Package("spectral", "spectral", "ENVI hyperspectral images and spectral libraries"),
    Package("boto3", "boto3", "training on AWS Batch and S3 data"),
)

TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
MENU_ENTRY = "Plugins › GeoML › Install Python packages…"
_PEP440 = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[a-z0-9.]+)?$", re.I)


def python_candidates(executable: str = sys.executable, exec_prefix: str = sys.exec_prefix,
                      platform: str = sys.platform) -> list[Path]:
    """Where QGIS's Python interpreter may be, most likely first."""
    exe, prefix = Path(executable), Path(exec_prefix)
    ver = f"{sys.version_info[0]}.{sys.version_info[1]}"
    # a plain Python (tests, a venv); embedded in QGIS, sys.executable may be whatever "python3"
    # comes first on PATH, so it is only one candidate, checked like the others
    own = [exe] if exe.name.lower().startswith("python") else []
    if platform.startswith("win"):
        # OSGeo4W and the standalone installer: <root>/apps/Python3XX/python.exe, sys.exec_prefix
        return [prefix / "python.exe", prefix / "python3.exe", *own, exe.parent / "python.exe",
                *sorted(exe.parent.parent.glob("apps/Python3*/python.exe"), reverse=True)]
    if platform == "darwin":
        # QGIS.app/Contents/MacOS/QGIS; the bundle's Python in Contents/MacOS/bin or its framework
        return [exe.parent / "bin" / f"python{ver}", exe.parent / "bin" / "python3",
                prefix / "bin" / f"python{ver}", prefix / "bin" / "python3", *own]
    found = [shutil.which(f"python{ver}"), shutil.which("python3")]
    return [*own, prefix / "bin" / f"python{ver}", prefix / "bin" / "python3", *(Path(p) for p in found if p)]


def find_python(candidates: Iterable[Path] | None = None) -> Path:
    """The first candidate that is this very Python installation (same version and prefix,
    checked by running it): another Python 3.x on PATH would install beside, not into, QGIS."""
    want = f"{sys.version_info[0]}.{sys.version_info[1]} {_norm(sys.prefix)}"
    tried = []
    for cand in candidates if candidates is not None else python_candidates():
        tried.append(str(cand))
        if not Path(cand).is_file():
            continue
        try:
            out = subprocess.run([str(cand), "-c", _WHO], capture_output=True, text=True, timeout=60,
                                 **_no_window())
        except (OSError, subprocess.SubprocessError):
            continue
        if out.returncode == 0 and out.stdout.strip() == want:
            return Path(cand)
    raise FileNotFoundError(f"QGIS's Python ({sys.version.split()[0]} in {sys.prefix}) was not found "
                            f"(tried: {', '.join(tried)}).")


_WHO = "import os, sys; print('%d.%d' % sys.version_info[:2], os.path.normcase(os.path.realpath(sys.prefix)))"


def _norm(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def packages_base(profile_dir: str | os.PathLike) -> Path:
    """The per-profile folder pip installs into (one per Python version: wheels are per version)."""
    return Path(profile_dir) / "python" / f"geoml-packages-py{sys.version_info[0]}{sys.version_info[1]}"


def site_dir(base: str | os.PathLike) -> Path:
    """The site-packages folder of user base *base* (the layout pip --user uses here)."""
    scheme = sysconfig.get_preferred_scheme("user") if hasattr(sysconfig, "get_preferred_scheme") \
        else f"{os.name}_user"
    return Path(sysconfig.get_path("purelib", scheme, vars={"userbase": str(base)}))


def activate(base: str | os.PathLike) -> Path:
    """Append the folder's site-packages to ``sys.path`` (after QGIS's own); returns it."""
    path = site_dir(base)
    if str(path) not in sys.path:
        sys.path.append(str(path))
    return path


def status(packages: Sequence[Package] = PACKAGES) -> dict[str, str | None]:
    """Import name -> installed version (``""`` if unknown), or None when missing."""
    out: dict[str, str | None] = {}
    for pkg in packages:
        if util.find_spec(pkg.module) is None:
            out[pkg.module] = None
            continue
        try:
            out[pkg.module] = metadata.version(pkg.requirement)
        except metadata.PackageNotFoundError:
            out[pkg.module] = ""
    return out


def constraints(exclude: Sequence[str | os.PathLike] = ()) -> str:
    """``name==version`` for every distribution this Python sees (outside *exclude*): pip may
    add packages but not replace any of them."""
    skip = {str(Path(p).resolve()) for p in exclude}
    pins: dict[str, str] = {}
    for path in sys.path:
        if not path or not Path(path).is_dir() or str(Path(path).resolve()) in skip:
            continue
        for dist in metadata.distributions(path=[path]):
            name, version = dist.metadata.get("Name"), dist.version
            if not name or not version or not _PEP440.match(version):
                continue
            pins.setdefault(re.sub(r"[-_.]+", "-", name).lower(), version)  # the first on sys.path wins
    return "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))


def pip_command(python: Path, package: Package, constraints_file: Path,
                platform: str = sys.platform) -> list[str]:
    """pip's command line for one package (installed with --user into PYTHONUSERBASE)."""
    cmd = [str(python), "-m", "pip", "install", "--user", "--upgrade-strategy", "only-if-needed",
           "--disable-pip-version-check", "--no-input", "--progress-bar", "off", "--use-pep517",
           "-c", str(constraints_file)]
    if package.module == "torch" and not platform == "darwin":
        cmd += ["--index-url", TORCH_CPU_INDEX]
    return cmd + [package.requirement]


def pip_env(base: Path) -> dict[str, str]:
    """pip's environment: the folder as user base; Debian's "externally managed" guard lifted
    (harmless there: --user with the constraints installs only what is missing)."""
    env = dict(os.environ, PYTHONUSERBASE=str(base), PIP_BREAK_SYSTEM_PACKAGES="1",
               PIP_NO_WARN_SCRIPT_LOCATION="1")
    for var in ("PYTHONNOUSERSITE", "PIP_REQUIRE_VIRTUALENV", "PIP_TARGET", "PIP_PREFIX"):
        env.pop(var, None)
    return env


def run_pip(cmd: Sequence[str], env: dict[str, str], on_line: Callable[[str], None],
            cancelled: Callable[[], bool]) -> int:
    """Run pip, passing each output line to *on_line*; kill it when *cancelled()* turns true.
    Returns pip's exit code (-1 when cancelled)."""
    proc = subprocess.Popen(list(cmd), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, bufsize=1, **_no_window())
    try:
        for line in proc.stdout:
            on_line(line.rstrip())
            if cancelled():
                proc.kill()
                proc.wait()
                return -1
        return proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def verify(python: Path, base: Path, modules: Sequence[str]) -> dict[str, str]:
    """Import each module in a fresh interpreter that sees the folder; module -> error ('' = ok)."""
    out = {}
    for module in modules:
        proc = subprocess.run([str(python), "-c", f"import {module}"], env=pip_env(base),
                              capture_output=True, text=True, timeout=300, **_no_window())
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        out[module] = "" if proc.returncode == 0 else (lines[-1] if lines else f"exit code {proc.returncode}")
    return out


def _no_window() -> dict:
    """No console window flashing up on Windows for each subprocess."""
    return {"creationflags": subprocess.CREATE_NO_WINDOW} if sys.platform.startswith("win") else {}
