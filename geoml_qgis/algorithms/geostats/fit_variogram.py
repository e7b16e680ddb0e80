"""geoml:fitvariogram — experimental variogram and a fitted model (JSON) with an HTML report."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
)

from ...compat import NUMBER_DOUBLE, NUMBER_INTEGER
from ...core.errors import GeoMLError
from ...core.geostats.models import MODEL_CHOICES
from ..common.parameters import enum_choice, enum_parameter
from .params import SAMPLE_HELP, GeostatsAlgorithm, optional_number


class FitVariogram(GeostatsAlgorithm):
    NAME = "fitvariogram"
    DISPLAY_NAME = "Fit variogram"
    PARAMETER_HELP = {
        "MAX_LAG": "Largest lag of the experimental variogram, map units; empty: a third of the data extent.",
        "TOLERANCE": "Angular tolerance around the direction of a directional variogram, degrees.",
    }
    HELP = (
        "Computes the experimental variogram of a field (semivariance by lag class, with pair counts) and fits "
        "a variogram model to it by weighted least squares (weights: pairs / lag&sup2;). The model is written as "
        "a small JSON file that <i>Ordinary kriging</i>, <i>Kriging cross-validation</i> and <i>Kriged features</i> "
        "accept as their variogram model.<br>" + SAMPLE_HELP +
        "<b>Variogram model</b> (VARIOGRAM_MODEL): <i>auto</i> fits every model and keeps the one with the smallest weighted error.<br>"
        "<b>Lag classes</b> (LAGS) and <b>Maximum lag</b> (MAX_LAG, default a third of the samples' bounding-box "
        "diagonal).<br>"
        "<b>Nugget / Sill / Range</b> (optional): keep these parameters fixed (SILL is the total sill).<br>"
        "<b>Direction / Tolerance</b> (DIRECTION, TOLERANCE, optional, 2D): a directional variogram, direction in "
        "degrees counter-clockwise from east; use it to find anisotropy.<br>"
        "<b>Outputs</b>: OUTPUT_MODEL (JSON) and OUTPUT_REPORT (HTML with the variogram plot, pair counts and "
        "parameters)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.add_sample_params()
        self.addParameter(enum_parameter("VARIOGRAM_MODEL", self.tr("Variogram model"), MODEL_CHOICES, "auto"))
        self.addParameter(QgsProcessingParameterNumber(
            "LAGS", self.tr("Lag classes"), NUMBER_INTEGER, defaultValue=15, minValue=2))
        self.addParameter(QgsProcessingParameterNumber(
            "MAX_LAG", self.tr("Maximum lag (map units)"), NUMBER_DOUBLE, optional=True, minValue=0.0))
        for name, label in (("NUGGET", "Nugget (fixed)"), ("SILL", "Total sill (fixed)"), ("RANGE", "Range (fixed, map units)")):
            self.addParameter(QgsProcessingParameterNumber(
                name, self.tr(label), NUMBER_DOUBLE, optional=True, minValue=0.0))
        self.addParameter(QgsProcessingParameterNumber(
            "DIRECTION", self.tr("Direction (° CCW from east)"), NUMBER_DOUBLE, optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            "TOLERANCE", self.tr("Angular tolerance (degrees)"), NUMBER_DOUBLE,
            defaultValue=22.5, minValue=0.1, maxValue=90.0))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT_MODEL", self.tr("Variogram model"), "JSON files (*.json)"))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT_REPORT", self.tr("Variogram report"), "HTML files (*.html)"))

    def execute(self, parameters, context, feedback):
        from ...core.geostats.report import write_variogram_report
        from ...core.geostats.variogram import experimental_variogram, fit_variogram
        from ...core.io.atomic import write_text_atomic

        samples, _, _, field = self.read_samples(parameters, context, feedback)
        direction = optional_number(self, parameters, "DIRECTION", context)
        ev = experimental_variogram(
            samples.coords, samples.values, self.parameterAsInt(parameters, "LAGS", context),
            optional_number(self, parameters, "MAX_LAG", context) or None, direction,
            self.parameterAsDouble(parameters, "TOLERANCE", context),
        )
        kind = enum_choice(self, parameters, "VARIOGRAM_MODEL", MODEL_CHOICES, context)
        model, errors = fit_variogram(
            ev, kind, optional_number(self, parameters, "NUGGET", context),
            optional_number(self, parameters, "SILL", context), optional_number(self, parameters, "RANGE", context))
        if model.psill <= 0:
            raise GeoMLError("The fitted partial sill is zero: the values show no spatial structure to krige.")
        feedback.pushInfo(f"Fitted {model.describe()}")
        model_path = self.model_output(parameters, context, feedback)
        report_path = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context)
        write_text_atomic(model_path, model.to_json())
        write_variogram_report(report_path, ev, model, errors, field, samples.summary())
        return {"OUTPUT_MODEL": model_path, "OUTPUT_REPORT": report_path}
