"""A plausibility check of a cube's values: reflectance lies in about 0-1.

Radiance (W m-2 sr-1 um-1, often hundreds or thousands) and reflectance scaled to
integers (0-10,000) are the usual mix-ups. The check looks at the median of valid
values in the first block read and warns once; it never stops a run.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

#: a median above this does not look like reflectance in 0-1
MAX_REFLECTANCE_MEDIAN = 1.5


def check_reflectance(pixels: np.ndarray, valid: np.ndarray, name: str, consequence: str,
                      warn: Callable[[str], None] | None) -> bool:
    """Warn through *warn* when spectra ``(n, b)`` (rows flagged by *valid*) do not look like 0-1 reflectance.

    *consequence* says what the algorithm does with such values. Returns whether a warning was given.
    """
    x = np.asarray(pixels)
    rows = np.flatnonzero(valid)
    size = rows.size * x.shape[1]
    if size == 0:
        return False
    # every k-th value of the valid rows one after the other: a sample of 100,000 values suffices
    pick = np.arange(0, size, max(1, size // 100_000))
    median = float(np.median(x[rows[pick // x.shape[1]], pick % x.shape[1]]))
    if not median > MAX_REFLECTANCE_MEDIAN:
        return False
    if warn:
        scaled = " (reflectance in percent?)" if median <= 100 else " (reflectance x 10,000?)" if median <= 10000 else ""
        warn(f"The values of '{name}' do not look like reflectance between 0 and 1: their median is "
             f"{median:.4g}{scaled}; radiance would need atmospheric correction first. {consequence}")
    return True
