"""Run R gstat (Debian's ``r-cran-gstat``) from the tests as the reference implementation.

:func:`run_gstat` writes tables to CSV, runs an R snippet with ``Rscript`` in which each table is
a data.frame of the same name, and reads back the data.frame the snippet assigns to ``out``.
Tests call :func:`require_gstat` (or use the ``gstat`` fixture of the tests that need it) and are
skipped, with the reason, where R or gstat is not installed.
"""
from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest

#: gstat's range parameter = GeoML's practical range times this factor
_GSTAT_RANGE = {"spherical": 1.0, "exponential": 1.0 / 3.0, "gaussian": 4.0 / 7.0}
_GSTAT_NAME = {"spherical": "Sph", "exponential": "Exp", "gaussian": "Gau"}


@functools.lru_cache(maxsize=1)
def gstat_missing() -> str | None:
    """Why gstat cannot be run here, or None when it can."""
    if shutil.which("Rscript") is None:
        return "Rscript not found (install r-base-core r-cran-gstat: make setup does)"
    r = subprocess.run(["Rscript", "-e", "suppressPackageStartupMessages(library(gstat))"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return "R package gstat not installed (install r-cran-gstat: make setup does)"
    return None


def require_gstat() -> None:
    reason = gstat_missing()
    if reason:
        pytest.skip(reason)


def vgm(model) -> str:
    """gstat ``vgm()`` expression of a GeoML :class:`VariogramModel` or :class:`NestedModel` (isotropic)."""
    parts = [(s.kind, s.psill, s.range) for s in getattr(model, "structures", ())] or [
        (model.kind, model.psill, model.range)]
    expr = f"vgm({model.nugget!r}, 'Nug', 0)"
    for kind, psill, rng in parts:
        if kind not in _GSTAT_NAME:
            raise ValueError(f"no gstat equivalent for {kind}")
        expr = f"vgm({psill!r}, '{_GSTAT_NAME[kind]}', {rng * _GSTAT_RANGE[kind]!r}, add.to = {expr})"
    return expr


def gstat_range_to_geoml(kind: str, gstat_range: float) -> float:
    return gstat_range / _GSTAT_RANGE[kind]


def run_gstat(code: str, timeout: float = 120, **tables: pd.DataFrame) -> pd.DataFrame:
    """Run *code* in R with gstat and sp loaded and each of *tables* as a data.frame; return ``out``."""
    require_gstat()
    with tempfile.TemporaryDirectory(prefix="geoml-gstat-") as tmp:
        tmp = Path(tmp)
        lines = ["suppressPackageStartupMessages({library(sp); library(gstat)})"]
        for name, df in tables.items():
            path = tmp / f"{name}.csv"
            df.to_csv(path, index=False, float_format="%.17g")
            lines.append(f"{name} <- read.csv('{path}')")
        lines += [code, f"write.csv(as.data.frame(out), '{tmp / 'out.csv'}', row.names = FALSE)"]
        script = tmp / "run.R"
        script.write_text("options(digits = 17)\n" + "\n".join(lines) + "\n", encoding="utf-8")
        r = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"R failed:\n{r.stderr[-3000:]}")
        return pd.read_csv(tmp / "out.csv")
