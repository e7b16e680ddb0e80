"""geoml:buildfeaturestack — evidence rasters and distance-to-feature layers as one standardised stack."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ...compat import NUMBER_INTEGER, SOURCE_RASTER, SOURCE_VECTOR_ANY_GEOMETRY
from ...core.errors import GeoMLError
from ..common.base import GeoMLAlgorithm, progress_callback


class BuildFeatureStack(GeoMLAlgorithm):
    NAME = "buildfeaturestack"
    DISPLAY_NAME = "Build prospectivity feature stack"
    GROUP = "prospectivity"
    HELP = (
        "Puts the evidence layers of a prospectivity study onto one grid as a multi-band GeoTIFF of model "
        "features, read and written block by block.<br>"
        "<b>Evidence rasters</b> (INPUTS): continuous layers (magnetics, geochemistry, slope...), resampled "
        "bilinearly.<br><b>Categorical rasters</b> (CATEGORICAL): classes such as geology units; each class "
        "becomes one 0/1 band (one-hot), named <i>layer=class</i>.<br>"
        "<b>Vector evidence</b> (VECTORS): faults, contacts, intrusions...; each gives a band with the distance "
        "(map units) from every cell to the nearest feature. The grid must be in a projected CRS.<br>"
        "<b>Reference grid</b>: the grid to use (default: the first evidence raster).<br>"
        "<b>PCA components</b>: 0 writes every feature standardised (mean 0, standard deviation 1 over the "
        "area); k &gt; 0 writes the first k principal components (PC1..PCk) of the standardised features "
        "instead. A cell with nodata in any layer is nodata in the stack.<br>"
        "<b>Transform</b> (OUTPUT_TRANSFORM): JSON with the categories, means, standard deviations and PCA "
        "rotation (also stored in the stack's metadata), so the same features can be rebuilt elsewhere."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterMultipleLayers("INPUTS", self.tr("Evidence rasters (continuous)"),
                                                               SOURCE_RASTER))
        self.addParameter(QgsProcessingParameterMultipleLayers("CATEGORICAL", self.tr("Categorical rasters"),
                                                               SOURCE_RASTER, optional=True))
        self.addParameter(QgsProcessingParameterMultipleLayers("VECTORS", self.tr("Vector evidence (distance to)"),
                                                               SOURCE_VECTOR_ANY_GEOMETRY, optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer("REFERENCE", self.tr("Reference grid"), optional=True))
        self.addParameter(QgsProcessingParameterNumber("PCA_COMPONENTS", self.tr("PCA components (0 = none)"),
                                                       NUMBER_INTEGER, 0, minValue=0))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", self.tr("Feature stack")))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_TRANSFORM", self.tr("Feature transform"),
                                                                "JSON (*.json)", optional=True))

    def execute(self, parameters, context, feedback):
        from ...core.prospectivity.stack import build_feature_stack

        inputs = [lyr.source() for lyr in self.parameterAsLayerList(parameters, "INPUTS", context)]
        cats = [lyr.source() for lyr in self.parameterAsLayerList(parameters, "CATEGORICAL", context)]
        vectors = [lyr.source().split("|")[0] for lyr in self.parameterAsLayerList(parameters, "VECTORS", context)]
        if not inputs and not cats:
            raise GeoMLError("Choose at least one evidence raster.")
        reference = self.parameterAsRasterLayer(parameters, "REFERENCE", context)
        k = self.parameterAsInt(parameters, "PCA_COMPONENTS", context)
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        tpath = self.parameterAsFileOutput(parameters, "OUTPUT_TRANSFORM", context) or output + ".json"
        tf = build_feature_stack(
            output, inputs, cats, vectors, reference.source() if reference else (inputs or cats)[0], k, tpath,
            parameters={"INPUTS": inputs, "CATEGORICAL": cats, "VECTORS": vectors, "PCA_COMPONENTS": k},
            progress=progress_callback(feedback), algorithm=self.id(),
        )
        feedback.pushInfo(f"Wrote {len(tf.output_names)} feature bands: {', '.join(tf.output_names)}")
        if tf.explained:
            feedback.pushInfo("Variance explained: " + ", ".join(f"{100 * e:.1f} %" for e in tf.explained))
        return {"OUTPUT": output, "OUTPUT_TRANSFORM": tpath}
