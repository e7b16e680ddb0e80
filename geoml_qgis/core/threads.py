"""Thread limits for small numerical kernels.

Tiny networks and small batched LAPACK calls gain nothing from several threads; on
shared cores, OpenMP/OpenBLAS threads waiting for each other made them several
(up to 30) times slower in our measurements. These context managers limit the
threads for a computation and restore the previous setting afterwards.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Iterator


@contextlib.contextmanager
def single_thread(blas: bool = True, torch: bool = True) -> Iterator[None]:
    """Run the block on one BLAS thread and (if torch is imported) one torch thread."""
    with contextlib.ExitStack() as stack:
        if blas:
            try:
                from threadpoolctl import threadpool_limits
            except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
                pass
            else:
                stack.enter_context(threadpool_limits(limits=1, user_api="blas"))
        torch_module = sys.modules.get("torch") if torch else None
        if torch_module is not None:
            before = torch_module.get_num_threads()
            torch_module.set_num_threads(1)
            stack.callback(torch_module.set_num_threads, before)
        yield
