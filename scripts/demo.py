"""`make demo`: the main job end to end on the bundled sample data, headless through qgis_process.

Each capability contributes steps in ``scripts/demo_steps/<NN>_<capability>.py`` (a ``STEPS``
list of functions taking a :class:`Demo`, and a ``GROUP`` name); they run in file-name order,
every algorithm through the ``scripts/geoml-qgis-process`` launcher exactly as a user would run
it. Outputs go to ``demo_output/``. The rasters and layers each step creates are then loaded,
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

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER = ROOT / "scripts" / "geoml-qgis-process"


@dataclass
class Demo:
    out: Path
    sample: Path = ROOT / "geoml_qgis" / "sample_data"
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

    def report(self, step: str, figure: str, path: Path | str) -> None:
        """Add a line to the summary table."""
        self.rows.append((step, figure, os.path.relpath(path, ROOT)))


def load_steps():
    """``(group, step function)`` pairs from scripts/demo_steps, in file-name order."""
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


def main() -> None:
    out = ROOT / "demo_output"
    out.mkdir(exist_ok=True)
    demo = Demo(out)
    t0 = time.time()
    groups: dict[str, list[Path]] = {}
    for group, step in load_steps():
        print(f"[{step.__doc__.strip().splitlines()[0]}]")
        before = _files(out)
        step(demo)
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
    main()
