"""Coordinate reference system checks with messages a geologist can act on."""
from __future__ import annotations

from osgeo import osr

from ..errors import GeoMLError


def to_srs(crs: str | int | None) -> osr.SpatialReference | None:
    """Parse ``EPSG:xxxx``, an EPSG code, WKT or PROJ text; ``None``/empty gives ``None``."""
    if crs is None or crs == "":
        return None
    srs = osr.SpatialReference()
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    try:
        if isinstance(crs, int):
            srs.ImportFromEPSG(crs)
        else:
            srs.SetFromUserInput(str(crs))
    except RuntimeError as exc:
        raise GeoMLError(f"Unrecognised coordinate reference system: {str(crs)[:80]}") from exc
    return srs


#: names OGR gives a GeoPackage layer stored without a CRS (srs_id 0 / -1): no CRS, not a real one
UNDEFINED_NAMES = ("undefined geographic srs", "undefined cartesian srs", "undefined srs")

NO_CRS_HELP = (
    "Assign its CRS first: in QGIS, Layer Properties > Source > Assigned Coordinate Reference System (or "
    "'Assign projection' in Vector > Data Management Tools / Raster > Projections); a shapefile needs its .prj file."
)


def is_undefined(crs: str | None) -> bool:
    """True for an empty CRS or one of the placeholder 'Undefined ... SRS' CRSs of GeoPackages."""
    if crs is None or str(crs).strip() == "":
        return True
    text = str(crs).lower()
    return any(n in text[:200] for n in UNDEFINED_NAMES)


def to_wkt(crs: str | int | None) -> str:
    """WKT of *crs*, or an empty string when unknown."""
    srs = to_srs(crs)
    return srs.ExportToWkt() if srs is not None else ""


def same_crs(a: str | None, b: str | None) -> bool:
    """True when both are unknown or both describe the same CRS."""
    sa, sb = to_srs(a), to_srs(b)
    if sa is None or sb is None:
        return sa is None and sb is None
    return bool(sa.IsSame(sb))


def crs_name(crs: str | None) -> str:
    srs = to_srs(crs)
    if srs is None:
        return "unknown CRS"
    code = srs.GetAuthorityCode(None)
    name = srs.GetName() or "unnamed CRS"
    return f"{name} (EPSG:{code})" if code else name


def require_projected(crs: str | None, what: str = "the input layer") -> None:
    """Raise a clear error when distances are needed and *crs* is geographic or unknown.

    Distances in degrees are meaningless for variograms, neighbourhoods and
    spacing, so a geographic CRS is refused with the fix spelled out.
    """
    if crs and is_undefined(crs):
        raise GeoMLError(f"{what[0].upper() + what[1:]} has no coordinate reference system (stored as 'undefined'). "
                         + NO_CRS_HELP)
    srs = to_srs(crs)
    if srs is None:
        return
    if srs.IsGeographic():
        raise GeoMLError(
            f"{what[0].upper() + what[1:]} is in a geographic CRS ({crs_name(crs)}), so distances "
            "would be in degrees. Reproject it to a projected CRS in metres (for example the "
            "local UTM zone) with Vector > Data Management Tools > Reproject Layer or "
            "Raster > Projections > Warp, then run again."
        )
