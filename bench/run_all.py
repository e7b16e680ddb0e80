"""`make bench`: run every benchmark in bench/ in turn and print their figures.

Each script measures itself against its reference in the same run and prints its own
lines; this runner prints them under one heading per script, then a closing table of
wall times.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = [p for p in sorted(HERE.glob("*.py")) if p.name != "run_all.py" and not p.name.startswith("_")]
    if len(sys.argv) > 1:
        scripts = [p for p in scripts if p.stem in sys.argv[1:]]
    summary, failed = [], 0
    for script in scripts:
        print(f"\n=== {script.name}", flush=True)
        t0 = time.time()
        rc = subprocess.call([sys.executable, str(script)])
        summary.append((script.name, time.time() - t0, "ok" if rc == 0 else f"exit {rc}"))
        failed += rc != 0
    print("\n| benchmark | wall time | status |\n|---|---|---|")
    for name, secs, status in summary:
        print(f"| {name} | {secs:.0f} s | {status} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
