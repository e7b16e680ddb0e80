"""Processing algorithms: one thin wrapper per step, found automatically.

One sub-package per capability, mirroring ``core/`` (geostats, hybrid, borehole,
prospectivity, hyperspectral, scaleout, rastertools), one algorithm per module;
the QGIS plumbing they share (base class, layer/sink helpers, styling) lives in
``common/``. Every module of these sub-packages that defines a
:class:`~.common.base.GeoMLAlgorithm` subclass with a ``NAME`` is registered with
the provider. Algorithm modules import only qgis and light core modules at
import time; heavy or optional packages (torch, pykrige, spectral) are imported
inside ``execute`` so that the provider loads without them.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil


def algorithm_classes() -> list[type]:
    """All algorithm classes of this package, sorted by id."""
    from .common.base import GeoMLAlgorithm

    found = {}
    for info in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        if info.ispkg:
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, GeoMLAlgorithm)
                and obj.__module__ == module.__name__
                and getattr(obj, "NAME", "")
            ):
                found[obj.NAME] = obj
    return [found[k] for k in sorted(found)]
