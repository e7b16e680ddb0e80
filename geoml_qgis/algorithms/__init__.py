"""Processing algorithms: one thin wrapper per step, found automatically.

Every module in this package that defines a :class:`~.base.GeoMLAlgorithm`
subclass with a ``NAME`` is registered with the provider. Algorithm modules
import only qgis and light core modules at import time; heavy or optional
packages (torch, pykrige, spectral) are imported inside ``execute`` so that the
provider loads without them.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil


def algorithm_classes() -> list[type]:
    """All algorithm classes of this package, sorted by id."""
    from .base import GeoMLAlgorithm

    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, GeoMLAlgorithm)
                and obj.__module__ == module.__name__
                and getattr(obj, "NAME", "")
            ):
                found[obj.NAME] = obj
    return [found[k] for k in sorted(found)]
