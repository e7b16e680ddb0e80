"""Parameters and input handling shared by the geostatistics algorithms (no algorithm here)."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)

from ...compat import FIELD_NUMERIC, NUMBER_DOUBLE, NUMBER_INTEGER, SOURCE_VECTOR_POINT
from ...core.errors import GeoMLError
from ...core.geostats.models import MODEL_CHOICES
from ...core.io.vector import numeric_column
from ..common.base import GeoMLAlgorithm
from ..common.choices import OneOf
from ..common.fields import field_parameter
from ..common.parameters import enum_choice, enum_parameter
from ..common.qgisio import source_to_points

#: structure types of nested models (fitnestedvariogram, cokriging); a second structure may be none
STRUCTURES = ["spherical", "exponential", "gaussian"]
SECOND = ["none"] + STRUCTURES

SAMPLE_HELP = (
    "<b>Input points</b> (INPUT): sample locations in a projected CRS (metres); a geographic CRS is refused.<br>"
    "<b>Value field</b> (FIELD): the numeric field to krige. Samples without a value (NULL) are skipped and "
    "counted in the log; samples at identical coordinates are merged and their values averaged.<br>"
    "<b>Z field</b> (Z_FIELD, optional): elevation/depth field for 3D kriging (also taken from 3D geometries).<br>"
)
MODEL_HELP = (
    "<b>Variogram model</b> (VARIOGRAM_MODEL): <i>auto</i> (fit spherical, exponential, gaussian and stable, "
    "keep the best) or a model name (<i>spherical</i>, <i>exponential</i>, <i>gaussian</i>, <i>stable</i>).<br>"
    "<b>Variogram model file</b> (VARIOGRAM_FILE, optional): a JSON model written by <i>Fit variogram</i>; "
    "when given it is used instead of VARIOGRAM_MODEL.<br>"
    "<b>Nugget / Sill / Range</b> (NUGGET, SILL, RANGE, optional): fixed model parameters. SILL is the "
    "<i>total</i> sill (nugget + partial sill), RANGE the practical range in map units. With a model name and "
    "all three given, nothing is fitted; parameters left empty are fitted to the data.<br>"
    "<b>Anisotropy ratio / angle</b> (ANISOTROPY_RATIO, ANISOTROPY_ANGLE): geometric anisotropy in 2D; ratio = "
    "minor range / major range (1 = isotropic), angle of the major axis in degrees counter-clockwise from east.<br>"
)
NEIGHBOUR_HELP = (
    "<b>Neighbours</b> (NEIGHBOURS): number of nearest samples used for each estimate (default 32; 0 = all "
    "samples, a global neighbourhood; more than the number of samples means all of them).<br>"
    "<b>Search radius</b> (SEARCH_RADIUS, optional): only samples within this distance are used; cells with "
    "none stay empty (nodata).<br>"
)
GRID_HELP = (
    "<b>Extent</b> (EXTENT) and <b>Pixel size</b> (PIXEL_SIZE), or a <b>Reference raster</b> (REFERENCE) "
    "whose grid (extent, cell size, CRS) is used as is. Values are computed at cell centres, north-up. "
    "The reference raster must be in the same CRS as the points; its nodata cells (band 1) stay nodata.<br>"
)


def optional_number(alg, parameters, name, context) -> float | None:
    """A numeric parameter left empty gives None (not 0)."""
    value = parameters.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return alg.parameterAsDouble(parameters, name, context)

# the output grid of an estimating algorithm: a reference raster's, or an extent and a pixel size
GRID = OneOf("the output grid", (("REFERENCE",), ("EXTENT", "PIXEL_SIZE")))


class GeostatsAlgorithm(GeoMLAlgorithm):
    """Common parameters of the kriging algorithms (not registered itself: no NAME)."""

    GROUP = "geostatistics"

    def add_sample_params(self, z=True) -> None:
        self.addParameter(QgsProcessingParameterFeatureSource(
            "INPUT", self.tr("Input points"), [SOURCE_VECTOR_POINT]))
        self.addParameter(field_parameter("FIELD", self.tr("Value field"), "INPUT", "value", kind=FIELD_NUMERIC))
        if z:  # no role: 3D kriging is chosen, never switched on by a field named z
            self.addParameter(field_parameter("Z_FIELD", self.tr("Z field (3D kriging)"), "INPUT",
                                              kind=FIELD_NUMERIC, optional=True))

    def add_model_params(self) -> None:
        self.addParameter(enum_parameter("VARIOGRAM_MODEL", self.tr("Variogram model"), MODEL_CHOICES, "auto"))
        self.addParameter(QgsProcessingParameterFile(
            "VARIOGRAM_FILE", self.tr("Variogram file (JSON)"), extension="json",
            optional=True))
        for name, label in (("NUGGET", "Nugget (fixed)"), ("SILL", "Total sill (fixed)"), ("RANGE", "Range (fixed, map units)")):
            self.addParameter(QgsProcessingParameterNumber(
                name, self.tr(label), NUMBER_DOUBLE, optional=True, minValue=0.0))
        self.addParameter(QgsProcessingParameterNumber(
            "ANISOTROPY_RATIO", self.tr("Anisotropy ratio (minor / major range)"), NUMBER_DOUBLE,
            defaultValue=1.0, minValue=0.001, maxValue=1.0))
        self.addParameter(QgsProcessingParameterNumber(
            "ANISOTROPY_ANGLE", self.tr("Anisotropy angle (degrees CCW from east)"), NUMBER_DOUBLE,
            defaultValue=0.0, minValue=-360.0, maxValue=360.0))

    def add_neighbour_params(self) -> None:
        self.addParameter(QgsProcessingParameterNumber(
            "NEIGHBOURS", self.tr("Neighbours (0 = all samples)"), NUMBER_INTEGER,
            defaultValue=32, minValue=0))
        self.addParameter(QgsProcessingParameterNumber(
            "SEARCH_RADIUS", self.tr("Search radius (map units)"), NUMBER_DOUBLE, optional=True,
            minValue=0.0))

    def add_grid_params(self, reference_required=False) -> None:
        if not reference_required:
            self.addParameter(QgsProcessingParameterExtent("EXTENT", self.tr("Extent (or reference raster)"), optional=True))
            self.addParameter(QgsProcessingParameterNumber(
                "PIXEL_SIZE", self.tr("Pixel size (map units)"), NUMBER_DOUBLE, optional=True, minValue=0.0))
        self.addParameter(QgsProcessingParameterRasterLayer(
            "REFERENCE", self.tr("Reference raster (its grid is used)" if reference_required
                                 else "Reference raster (or extent)"), optional=not reference_required))

    # reading ----------------------------------------------------------------------------
    def read_samples(self, parameters, context, feedback, field: str | None = None):
        """Samples (core :class:`Samples`), the source CRS and the value field's name.

        *field* overrides the FIELD parameter (for algorithms that take it from a model).
        """
        from ...core.geostats.samples import prepare_samples

        source = self.parameterAsSource(parameters, "INPUT", context)
        if source is None:
            raise GeoMLError("The input point layer could not be read.")
        field = field or self.parameterAsString(parameters, "FIELD", context)
        z_field = self.parameterAsString(parameters, "Z_FIELD", context) if "Z_FIELD" in parameters else ""
        pts = source_to_points(source, [field], z_field=z_field or None, feedback=feedback)
        values = numeric_column(pts.attributes, field)
        samples = prepare_samples(pts.x, pts.y, values, pts.z if z_field or pts.z is not None else None,
                                  pts.crs_wkt, field)
        feedback.pushInfo(samples.summary())
        return samples, source.sourceCrs(), pts.crs_wkt, field

    def read_model(self, parameters, context, samples, feedback):
        from ...core.geostats.workflow import resolve_model

        spec = (self.parameterAsFile(parameters, "VARIOGRAM_FILE", context)
                or enum_choice(self, parameters, "VARIOGRAM_MODEL", MODEL_CHOICES, context))
        choice = resolve_model(
            spec,
            samples,
            optional_number(self, parameters, "NUGGET", context),
            optional_number(self, parameters, "SILL", context),
            optional_number(self, parameters, "RANGE", context),
            self.parameterAsDouble(parameters, "ANISOTROPY_RATIO", context),
            self.parameterAsDouble(parameters, "ANISOTROPY_ANGLE", context),
        )
        feedback.pushInfo(f"Variogram ({choice.how}): {choice.model.describe()}")
        return choice

    def read_neighbours(self, parameters, context) -> tuple[int, float | None]:
        radius = optional_number(self, parameters, "SEARCH_RADIUS", context)
        return self.parameterAsInt(parameters, "NEIGHBOURS", context), (radius or None)

    def reference_path(self, parameters, context) -> str | None:
        reference = self.parameterAsRasterLayer(parameters, "REFERENCE", context)
        return reference.source() if reference is not None else None

    def read_grid(self, parameters, context, crs, crs_wkt):
        """Output grid from REFERENCE, or from EXTENT (in the points' CRS) and PIXEL_SIZE."""
        from ...core.io.crs import same_crs
        from ...core.io.grid import Grid
        from ...core.io.raster import raster_grid

        reference = self.parameterAsRasterLayer(parameters, "REFERENCE", context)
        if reference is not None:
            grid = raster_grid(reference.source())
            if grid.crs_wkt and crs_wkt and not same_crs(grid.crs_wkt, crs_wkt):
                raise GeoMLError(
                    "The reference raster and the points are in different CRSs; reproject one of them first."
                )
            return Grid(grid.width, grid.height, grid.transform, grid.crs_wkt or crs_wkt)
        pixel = optional_number(self, parameters, "PIXEL_SIZE", context)
        if parameters.get("EXTENT") in (None, "") or not pixel:
            raise GeoMLError("Give an output extent and a pixel size, or a reference raster.")
        rect = self.parameterAsExtent(parameters, "EXTENT", context, crs)
        return Grid.from_bounds(rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum(), pixel, crs_wkt)
