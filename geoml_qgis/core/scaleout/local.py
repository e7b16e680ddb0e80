"""The local backend: the scale-out worker for every member, in a pool of processes.

Each member runs ``python -m geoml_qgis.core.scaleout.worker train-member`` (exactly the
command an AWS Batch job runs) as its own process, at most ``max_workers`` at a time,
so a member that crashes loses only itself. Progress and cancellation are handled in
the calling thread; cancelling terminates the running workers.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import GeoMLError
from ..io.atomic import write_text_atomic
from ..progress import ProgressCallback, report, scaled
from . import members as run_files
from .members import Collected, assemble, collect_members
from .trainers import prepare

POLL_SECONDS = 0.2
PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])


@functools.lru_cache(maxsize=1)
def python_executable() -> str:
    """A Python interpreter that can run the workers: one that imports GDAL and numpy.

    Inside QGIS ``sys.executable`` is QGIS itself, and the first ``python3`` on the PATH
    may be another Python (pyenv, conda) without GDAL, so each candidate is tried.
    """
    candidates = [sys.executable, getattr(sys, "_base_executable", ""),
                  os.path.join(sys.exec_prefix, "bin", "python3"), os.path.join(sys.exec_prefix, "python.exe"),
                  "/usr/bin/python3", shutil.which("python3") or "", shutil.which("python") or ""]
    env = _worker_env(1)
    for path in dict.fromkeys(candidates):
        if not (path and os.path.basename(path).lower().startswith("python") and os.access(path, os.X_OK)):
            continue
        probe = subprocess.run([path, "-c", "import osgeo.gdal, numpy"], env=env, capture_output=True, timeout=60)
        if probe.returncode == 0:
            return path
    raise GeoMLError("No Python interpreter with GDAL and numpy was found to run the ensemble workers.")


def worker_command() -> list[str]:
    return [python_executable(), "-m", "geoml_qgis.core.scaleout.worker"]


def _worker_env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p)
    env.setdefault("OMP_NUM_THREADS", str(threads))
    env.pop("AWS_BATCH_JOB_ARRAY_INDEX", None)
    return env


def run_workers(run: str, members: int, progress: ProgressCallback | None = None, max_workers: int | None = None,
                command: Sequence[str] | None = None) -> dict[int, str]:
    """Run the worker for members ``0..members-1`` of the run folder *run*.

    Returns ``{index: reason}`` for the workers that failed (their last error line).
    *command* replaces ``python -m geoml_qgis.core.scaleout.worker`` (tests).
    """
    max_workers = max(1, min(members, max_workers or os.cpu_count() or 1))
    env = _worker_env(max(1, (os.cpu_count() or 1) // max_workers))
    base = list(command or worker_command())
    logs = Path(run, "logs")
    logs.mkdir(parents=True, exist_ok=True)
    pending = list(range(members))
    running: dict[int, tuple[subprocess.Popen, Any]] = {}
    failures: dict[int, str] = {}
    done = 0
    try:
        while pending or running:
            while pending and len(running) < max_workers:
                i = pending.pop(0)
                log = open(logs / f"member-{i:04d}.log", "w+", encoding="utf-8")  # noqa: SIM115 - closed below
                args = [*base, "train-member", "--config", run_files.config_uri(run), "--data", run_files.data_uri(run),
                        "--out", run_files.members_uri(run), "--index", str(i)]
                running[i] = (subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env), log)
            for i, (proc, log) in list(running.items()):
                if proc.poll() is None:
                    continue
                if proc.returncode != 0:
                    log.seek(0)
                    lines = [line.strip() for line in log.read().splitlines() if line.strip()]
                    failures[i] = f"worker exit status {proc.returncode}: {lines[-1] if lines else 'no output'}"
                log.close()
                del running[i]
                done += 1
            report(progress, done / members)
            if running:
                time.sleep(POLL_SECONDS)
    except BaseException:
        for proc, log in running.values():
            proc.terminate()
        for proc, log in running.values():
            proc.wait()
            log.close()
        raise
    return failures


def train_local(data: Mapping[str, np.ndarray], trainer: str, config: Mapping[str, Any], members: int,
                min_members: int, progress: ProgressCallback | None = None, max_workers: int | None = None,
                workdir: str | None = None, command: Sequence[str] | None = None) -> tuple[Any, Collected]:
    """Train an ensemble of *members* with the registered *trainer* on this machine.

    Returns ``(ensemble, collected)``; ``collected.missing`` names members that failed.
    The run's files go to *workdir* (kept) or a temporary folder (removed).
    """
    doc = run_files.config_document(trainer, members, prepare(trainer, data, config))
    with tempfile.TemporaryDirectory(prefix="geoml-ensemble-") as tmpdir:
        run = workdir or tmpdir
        Path(run).mkdir(parents=True, exist_ok=True)
        run_files.write_data(data, run_files.data_uri(run))
        write_text_atomic(run_files.config_uri(run), json.dumps(doc, indent=1), defer=False)
        failures = run_workers(run, members, scaled(progress, 0.0, 0.95), max_workers, command)
        collected = collect_members(run_files.members_uri(run), members, failures=failures,
                                    progress=scaled(progress, 0.95, 1.0))
        report(progress, 1.0)
        return assemble(collected, trainer, doc["config"], min_members), collected
