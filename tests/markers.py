"""The slow kinds of test and the marker each must carry (``make test-fast`` deselects them).

Markers are set at collection from what a test uses (see ``pytest_collection_modifyitems`` in
conftest.py); while a test runs, :func:`require` fails it if it starts one of the slow things
(a program of :data:`PROGRAMS`, a moto server) without the marker, so a new test cannot slip a
qgis_process run, R, moto or cfn-lint into the fast tier unnoticed.
"""
from __future__ import annotations

import os
import subprocess

#: marker -> what it means (pyproject.toml declares the same)
SLOW = {
    "qgis_process": "runs the qgis_process launcher as a subprocess",
    "desktop": "starts real desktop QGIS under Xvfb",
    "aws": "needs a moto server (S3, Batch) or cfn-lint",
    "gstat": "runs R (Rscript with gstat) as a reference",
}
#: program names (as started) -> the marker a test that starts them must carry
PROGRAMS = {"geoml-qgis-process": "qgis_process", "qgis_process": "qgis_process", "qgis_process.bin": "qgis_process",
            "qgis-desktop": "desktop", "xvfb-run": "desktop", "Xvfb": "desktop", "cfn-lint": "aws",
            "Rscript": "gstat"}

_running = {"item": None}


def running(item) -> None:
    """Record the test now running (None between tests)."""
    _running["item"] = item


def require(marker: str, what: str) -> None:
    """Fail the running test if it lacks *marker* (it is about to do *what*)."""
    item = _running["item"]
    if item is not None and item.get_closest_marker(marker) is None:
        raise AssertionError(f"{item.nodeid} {what} but is not marked '{marker}' ({SLOW[marker]}); mark it "
                             f"(pytest.mark.{marker}) or teach conftest.py's collection hook to, so make "
                             f"test-fast leaves it out")


def watch_subprocesses() -> None:
    """Check every subprocess a test starts against :data:`PROGRAMS`."""
    original = subprocess.Popen.__init__
    if getattr(original, "geoml_watched", False):
        return

    def init(self, args, *rest, **kwargs):
        first = args if isinstance(args, (str, bytes, os.PathLike)) else (args[0] if args else "")
        name = os.path.basename(os.fsdecode(first).split()[0]) if os.fsdecode(first).strip() else ""
        if name in PROGRAMS:
            require(PROGRAMS[name], f"starts {name}")
        original(self, args, *rest, **kwargs)

    init.geoml_watched = True
    subprocess.Popen.__init__ = init
