"""Progress reporting and cancellation through a plain callback.

Core functions take ``progress: ProgressCallback | None``. The callback receives
the completed fraction in ``[0, 1]``; returning ``False`` asks the computation to
stop (GDAL's convention), which raises :class:`~geoml_qgis.core.errors.Cancelled`
at the next check point.
"""
from __future__ import annotations

import logging
from typing import Callable, Optional

from .errors import Cancelled

ProgressCallback = Callable[[float], Optional[bool]]

#: warnings of the core for the user; the Processing wrappers show them in the log
LOGGER = logging.getLogger("geoml_qgis")


def warn(message: str) -> None:
    """Tell the user about something that did not stop the run but may matter (named, with the fix)."""
    LOGGER.warning(message)


def report(progress: ProgressCallback | None, fraction: float) -> None:
    """Call *progress* with *fraction*; raise :class:`Cancelled` if it returns False."""
    if progress is None:
        return
    if progress(min(max(float(fraction), 0.0), 1.0)) is False:
        raise Cancelled("Cancelled by the user")


def scaled(progress: ProgressCallback | None, start: float, stop: float) -> ProgressCallback | None:
    """A callback mapping ``[0, 1]`` onto ``[start, stop]`` of *progress* (for sub-steps)."""
    if progress is None:
        return None

    def _sub(fraction: float) -> Optional[bool]:
        return progress(start + (stop - start) * fraction)

    return _sub
