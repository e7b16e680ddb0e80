"""GeoML core: the modelling library behind the QGIS plugin.

Pure Python on GDAL, numpy, scikit-learn and (optionally) torch; it never imports
qgis, so it can be used in scripts, notebooks and batch jobs.
"""
from .errors import Cancelled, GeoMLError, MissingDependencyError

__all__ = ["Cancelled", "GeoMLError", "MissingDependencyError"]
