"""`make demo`: the main job end to end on the bundled sample data, headless through qgis_process.

Each capability contributes steps in ``scripts/demo_steps/<NN>_<capability>.py`` (a ``STEPS``
list of :class:`Step`, and a ``GROUP`` name); they run in file-name order, every algorithm through
the ``scripts/geoml-qgis-process`` launcher exactly as a user would run it. Outputs go to
``demo_output/``. A step declares the files it reads (bundled ``samples``, and ``inputs`` that earlier
steps wrote) and the ``outputs`` it writes: the pipeline is checked before anything runs (every input
is an earlier step's output), inputs are checked before a step and outputs after it. Figures for the
summary come from the algorithms' declared outputs (``qgis_process --json``) or the files they write
(CSV, JSON, model metadata), never from report HTML. The rasters and layers each step creates are then loaded,
grouped by capability, into the styled project ``demo_output/geoml_demo.qgz``; one PNG map per
group and ``demo_output/index.html`` (maps, reports, key figures) are rendered from it, and a
summary table is printed.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER = ROOT / "scripts" / "geoml-qgis-process"
SAMPLE = ROOT / "geoml_qgis" / "sample_data"


@dataclass(frozen=True)
class Step:
    """One demo step: *run* (a function of the :class:`Demo`, its docstring's first line is its title),
    the ``outputs`` it writes and the ``inputs`` it reads in ``demo_output/``, and the bundled
    ``samples`` it reads (paths relative to ``geoml_qgis/sample_data/``)."""

    run: Callable[["Demo"], None]
    outputs: tuple[str, ...]
    inputs: tuple[str, ...] = ()
    samples: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return self.run.__doc__.strip().splitlines()[0]


def missing(folder: Path, names: Sequence[str]) -> list[str]:
    """Those of *names* that are not files in *folder*."""
    return [n for n in names if not (folder / n).is_file()]


def check_pipeline(steps: Sequence[Step]) -> list[str]:
    """What is wrong with the declarations of *steps*, in order: an input that no earlier step writes,
    an output written twice, a sample file that is not bundled, a step that declares no output."""
    problems, written = [], set()
    for step in steps:
        problems += [f"{step.title}: input {n} is written by no earlier step" for n in step.inputs if n not in written]
        problems += [f"{step.title}: output {n} is already written by an earlier step" for n in step.outputs
                     if n in written]
        problems += [f"{step.title}: sample {n} is not bundled" for n in missing(SAMPLE, step.samples)]
        if not step.outputs:
            problems.append(f"{step.title}: declares no output")
        written.update(step.outputs)
    return problems


@dataclass
class Demo:
    out: Path
    sample: Path = SAMPLE
    rows: list = field(default_factory=list)

    def run(self, alg_id: str, **params) -> dict:
        """Run one algorithm through qgis_process; returns its ``results`` dictionary."""
        args = [str(LAUNCHER), "run", alg_id, "--json", "--"]
        for key, value in params.items():
            for v in value if isinstance(value, (list, tuple)) else [value]:
                args.append(f"{key}={v}")
        t0 = time.time()
        proc = subprocess.run(args, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit(f"demo: {alg_id} failed")
        print(f"  {alg_id:<32s} {time.time() - t0:6.1f} s")
        return json.loads(proc.stdout[proc.stdout.index("{"):])["results"]

    @staticmethod
    def cv_summaries(model_path: Path | str) -> dict[str, dict]:
        """The cross-validation summaries a trained prospectivity model keeps in its metadata, by method
        (``roc_auc_mean``, ``roc_auc_sd``, ...)."""
        from geoml_qgis.core.modelio import load_model

        return {s["method"]: s for s in load_model(model_path)[1]["cv"]}

    @staticmethod
    def csv_figures(path: Path | str) -> dict[str, float]:
        """The ``metric,value`` rows of a figures CSV (as written by *Evaluate prospectivity*)."""
        import csv

        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        end = rows.index([]) if [] in rows else len(rows)
        return {k: float(v) for k, v in rows[1:end]}

    def report(self, step: str, figure: str, path: Path | str) -> None:
        """Add a line to the summary table."""
        self.rows.append((step, figure, os.path.relpath(path, ROOT)))


def load_steps() -> list[tuple[str, Step]]:
    """``(group, step)`` pairs from scripts/demo_steps, in file-name order."""
    steps = []
    for path in sorted((ROOT / "scripts" / "demo_steps").glob("[0-9]*.py")):
        spec = importlib.util.spec_from_file_location(f"demo_steps.{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        group = getattr(module, "GROUP", path.stem.split("_", 1)[-1].replace("_", " ").capitalize())
        steps.extend((group, step) for step in module.STEPS)
    return steps


def _files(folder: Path) -> dict[Path, float]:
    return {p: p.stat().st_mtime for p in folder.rglob("*") if p.is_file()}


def run_step(demo: Demo, step: Step) -> None:
    """Run *step* after checking its declared inputs exist; then check its declared outputs."""
    print(f"[{step.title}]")
    absent = missing(demo.out, step.inputs) + missing(SAMPLE, step.samples)
    if absent:
        raise SystemExit(f"demo: {step.title}: missing input(s) {', '.join(absent)}")
    step.run(demo)
    absent = missing(demo.out, step.outputs)
    if absent:
        raise SystemExit(f"demo: {step.title}: declared output(s) not written: {', '.join(absent)}")


def main(only: Sequence[str] = ()) -> None:
    """The whole demo, or with *only* (step file names such as ``47_wofe_fuzzy``) just those files' steps,
    on the outputs of earlier runs, without the project and maps."""
    out = ROOT / "demo_output"
    out.mkdir(exist_ok=True)
    demo = Demo(out)
    t0 = time.time()
    groups: dict[str, list[Path]] = {}
    steps = load_steps()
    problems = check_pipeline([step for _, step in steps])
    if problems:
        raise SystemExit("demo: the steps' declarations do not chain:\n  " + "\n  ".join(problems))
    if only:
        for _, step in steps:
            if step.run.__module__.split(".")[-1] in only:
                run_step(demo, step)
        for row in demo.rows:
            print("  ".join(row))
        return
    for group, step in steps:
        before = _files(out)
        run_step(demo, step)
        reported = [ROOT / r[2] for r in demo.rows]
        made = [p for _, p in sorted((t, p) for p, t in _files(out).items() if before.get(p) != t)]
        # a step's reported results first (its main raster leads the group's map), then the rest
        made.sort(key=lambda p: reported.index(p) if p in reported else len(reported))
        files = groups.setdefault(group, [])
        files.extend(p for p in made if p not in files)
    from build_project import publish  # QGIS is started only now, for the project and the maps

    published = publish(out, groups, demo.rows)
    demo.rows.extend(published)
    width = max((len(r[0]) for r in demo.rows), default=10)
    print(f"\nGeoML demo finished in {time.time() - t0:.0f} s; outputs in {os.path.relpath(out, ROOT)}/\n")
    print(f"{'step':<{width}}  {'key figure':<40}  file")
    for step, figure, path in demo.rows:
        print(f"{step:<{width}}  {figure:<40}  {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
