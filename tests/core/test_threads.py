"""core.threads: one BLAS thread inside single_thread, set once however deeply nested."""
from __future__ import annotations

import numpy as np  # noqa: F401 - loads OpenBLAS so threadpoolctl can see it
import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")

from geoml_qgis.core import threads  # noqa: E402


def _blas_threads() -> int | None:
    """The BLAS threads threadpoolctl sees; None where it finds no BLAS it can control (the reference
    BLAS, Debian's default without libopenblas0-pthread: one thread anyway, see core.blas)."""
    counts = [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]
    return min(counts) if counts else None


def test_nested_single_thread_limits_once_and_restores(monkeypatch):
    one, two = (1, 2) if _blas_threads() is not None else (None, None)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        calls = []
        real = threadpoolctl.threadpool_limits

        def counting(*args, **kwargs):
            calls.append(kwargs)
            return real(*args, **kwargs)

        monkeypatch.setattr(threadpoolctl, "threadpool_limits", counting)
        with threads.single_thread(torch=False):
            assert _blas_threads() == one
            for _ in range(3):  # e.g. a block worker's own solve inside the pipeline
                with threads.single_thread(torch=False):
                    assert _blas_threads() == one
            assert _blas_threads() == one
        assert len(calls) == 1
        assert _blas_threads() == two
        with threads.single_thread(torch=False):  # a fresh outer context limits again
            assert _blas_threads() == one
        assert len(calls) == 2 and _blas_threads() == two
