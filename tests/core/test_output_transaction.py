"""One output transaction per run: all outputs appear together or none changes."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from geoml_qgis.core.io import BlockWriter, Grid
from geoml_qgis.core.io.atomic import OutputTransaction, atomic_path, clean_stale_parts, staged_path, write_text_atomic


def _grid():
    return Grid(10, 10, (0.0, 10.0, 0.0, 100.0, 0.0, -10.0), "")


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_late_failure_leaves_every_existing_file(tmp_path):
    for name in ("est.tif", "var.tif", "report.html", "est.qml"):
        (tmp_path / name).write_bytes(b"old " + name.encode())
    before = _snapshot(tmp_path)
    with pytest.raises(RuntimeError):
        with OutputTransaction():
            for name in ("est.tif", "var.tif"):
                with BlockWriter(tmp_path / name, _grid()) as w:
                    for win in _grid().windows():
                        w.write(win, np.ones((win.height, win.width)))
            raise RuntimeError("the report path is not writable")
    assert _snapshot(tmp_path) == before


def test_commit_moves_all_and_staged_path_reads_back(tmp_path):
    (tmp_path / "a.txt").write_text("old")
    with OutputTransaction():
        write_text_atomic(tmp_path / "a.txt", "new a")
        write_text_atomic(tmp_path / "b.txt", "new b")
        assert (tmp_path / "a.txt").read_text() == "old"
        assert open(staged_path(tmp_path / "b.txt")).read() == "new b"
    assert (tmp_path / "a.txt").read_text() == "new a"
    assert (tmp_path / "b.txt").read_text() == "new b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


def test_without_transaction_each_file_is_renamed_at_once(tmp_path):
    write_text_atomic(tmp_path / "a.txt", "x")
    assert (tmp_path / "a.txt").read_text() == "x"


def test_stale_parts_of_a_killed_run_are_removed(tmp_path):
    # a run killed while writing: its pid no longer exists
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(proc.stdout)
    stale = tmp_path / f".est.{dead}-0123abcd.part.tif"
    stale.write_bytes(b"half")
    mine = tmp_path / f".est.{os.getpid()}-0123abcd.part.tif"
    mine.write_bytes(b"in progress")
    other = tmp_path / "notes.part.txt"
    other.write_text("user file")
    with atomic_path(tmp_path / "x.txt") as tmp:
        open(tmp, "w").write("x")
    assert not stale.exists() and mine.exists() and other.exists()
    assert clean_stale_parts(tmp_path) == []
