"""The machine's own two-core scaling, measured in the same run as a bench's 2-worker speed-up.

Two fixed jobs run twice in one process, then once in each of two processes at the same time:
pure Python (an integer loop), numpy in cache (element-wise passes and a row sort over arrays that
fit in a core's cache) and numpy streaming (element-wise passes over an array far larger than the
caches: memory bandwidth). Their speed-ups are what fully independent work gains on these two cores
at that moment, compute-bound and memory-bound: a bench's speed-up is read against them. Fastest of
three repetitions each (the least disturbed).
"""
from __future__ import annotations

import multiprocessing
import time

import numpy as np


def _python(_: int) -> int:
    total = 0
    for i in range(16_000_000):
        total += i * i
    return total


def _numpy(_: int) -> float:
    x = np.random.default_rng(0).random((64, 1024))
    s = 0.0
    for _ in range(200):
        y = np.sqrt(x * x + 1.0)
        s += float(np.sort(y, axis=1)[:, 31].sum())
    return s


def _stream(_: int) -> float:
    x = np.ones(16_000_000)  # 128 MB: far beyond the caches
    for _ in range(80):
        x += 1.0
    return float(x[0])


def ceiling(repeats: int = 3) -> dict[str, float]:
    """2-process speed-up of each job: ``{"python": ..., "numpy": ..., "stream": ...}``."""
    out = {}
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_python, [0, 0], chunksize=1)  # both workers started
        for name, job in (("python", _python), ("numpy", _numpy), ("stream", _stream)):
            serial, parallel = [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                job(0)
                job(0)
                serial.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                pool.map(job, [0, 1], chunksize=1)
                parallel.append(time.perf_counter() - t0)
            out[name] = min(serial) / min(parallel)
    return out


def ceiling_line() -> str:
    c = ceiling()
    return (f"  this machine's 2-process scaling now (independent jobs): pure Python {c['python']:.2f}x, "
            f"numpy in cache {c['numpy']:.2f}x, numpy streaming from memory {c['stream']:.2f}x")


if __name__ == "__main__":
    print(ceiling_line())
