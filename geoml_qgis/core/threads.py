"""Thread limits for small numerical kernels, and blocks computed by several threads.

Tiny networks and small batched LAPACK calls gain nothing from several threads; on
shared cores, OpenMP/OpenBLAS threads waiting for each other made them several
(up to 30) times slower in our measurements. These context managers limit the
threads for a computation and restore the previous setting afterwards.
:func:`ordered_map` spreads independent blocks over threads instead (one thread each),
which is where several cores pay off.
"""
from __future__ import annotations

import collections
import contextlib
import os
import sys
import threading
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")


_blas_limited = 0  # how many single_thread(blas=True) contexts are open (BLAS limits are process-wide)
_blas_lock = threading.Lock()


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread unless an enclosing context already did.

    threadpoolctl walks every loaded library in pure Python (milliseconds, holding the GIL),
    and the limit is process-wide: block workers inside a limited pipeline skip it.
    """
    global _blas_limited
    with _blas_lock:
        nested = _blas_limited > 0
        _blas_limited += 1
    try:
        if nested:
            yield
            return
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
            yield
            return
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        with _blas_lock:
            _blas_limited -= 1


@contextlib.contextmanager
def single_thread(blas: bool = True, torch: bool = True) -> Iterator[None]:
    """Run the block on one BLAS thread and (if torch is imported) one torch thread."""
    with contextlib.ExitStack() as stack:
        if blas:
            stack.enter_context(_one_blas_thread())
        torch_module = sys.modules.get("torch") if torch else None
        if torch_module is not None:
            before = torch_module.get_num_threads()
            torch_module.set_num_threads(1)
            stack.callback(torch_module.set_num_threads, before)
        yield


def resolve_workers(workers: int | None) -> int:
    """Worker threads to use: *workers* itself, or every core this process may run on for None or 0."""
    if workers:
        return max(1, int(workers))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def ordered_map(func: Callable[[T], R], items: Iterable[T], workers: int = 1) -> Iterator[tuple[T, R]]:
    """``(item, func(item))`` for every item, in order, computed by *workers* threads.

    At most ``2 * workers`` results are pending at once, so memory stays bounded whatever the
    number of items. With one worker everything runs in the calling thread. *func* must be safe
    to run in several threads at once (numpy, scipy and torch release the GIL in their kernels;
    serialise reads of a shared GDAL dataset with a lock). When the consumer stops early (an
    exception, a cancelled run), items not yet started are dropped and running ones finish
    before this returns.
    """
    if workers <= 1:
        for item in items:
            yield item, func(item)
        return
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="geoml-block")
    pending: collections.deque = collections.deque()
    try:
        for item in items:
            pending.append((item, pool.submit(func, item)))
            if len(pending) >= 2 * workers:
                done, fut = pending.popleft()
                yield done, fut.result()
        while pending:
            done, fut = pending.popleft()
            yield done, fut.result()
    finally:
        for _, fut in pending:
            fut.cancel()
        pool.shutdown(wait=True)
