"""Covariate rasters of the hybrid algorithms: CRS check and sampling at the points."""
from __future__ import annotations

from ...core.errors import GeoMLError


def covariate_paths(alg, parameters, context, crs_wkt):
    """Paths of the COVARIATES rasters; each must be in the points' CRS."""
    from ...core.io.crs import same_crs
    from ...core.io.raster import raster_grid

    layers = alg.parameterAsLayerList(parameters, "COVARIATES", context) or []
    paths = [lyr.source() for lyr in layers]
    for p in paths:
        g = raster_grid(p)
        if g.crs_wkt and crs_wkt and not same_crs(g.crs_wkt, crs_wkt):
            raise GeoMLError(f"Covariate '{p}' is not in the points' CRS; warp it to that CRS first.")
    return paths


def sample_covariates(paths, coords):
    """Covariate values (n, k) at *coords* (n, 2+) and their band names; (None, []) without covariates."""
    from ...core.hybrid.features import check_covariates
    from ...core.io.raster import RasterStack

    if not paths:
        return None, []
    with RasterStack(paths) as stack:
        values = stack.sample(coords[:, 0], coords[:, 1])
        names = list(stack.band_names)
    return check_covariates(values, names), names
