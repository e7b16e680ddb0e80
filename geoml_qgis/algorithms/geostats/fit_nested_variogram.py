"""geoml:fitnestedvariogram — nugget + one or two structures fitted as gstat's fit.variogram does; JSON model + report."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
)

from ...compat import NUMBER_DOUBLE, NUMBER_INTEGER
from ...core.errors import GeoMLError
from ..common.parameters import enum_parameter
from .params import SAMPLE_HELP, SECOND, STRUCTURES, GeostatsAlgorithm, optional_number


class FitNestedVariogram(GeostatsAlgorithm):
    NAME = "fitnestedvariogram"
    DISPLAY_NAME = "Fit nested variogram"
    PARAMETER_HELP = {
        "STRUCTURE_2": "Second nested structure (longer range), or none for a single structure.",
        "PSILL_1": "Starting partial sill of structure 1 for the fit (empty: from the data).",
        "RANGE_1": "Starting range of structure 1, map units (empty: from the data).",
        "PSILL_2": "Starting partial sill of structure 2 for the fit (empty: from the data).",
        "RANGE_2": "Starting range of structure 2, map units (empty: from the data).",
        "LAGS": "Number of lag classes of the experimental variogram.",
    }
    HELP = (
        "Fits a nested variogram model, nugget + one or two structures (e.g. a short-range and a long-range "
        "spherical), to the experimental variogram by weighted least squares with gstat's default weights "
        "(pairs / lag&sup2;, <i>fit.variogram(fit.method = 7)</i>). With the same starting values it reproduces "
        "gstat 2.1's fits on Meuse where gstat converges, and reaches an equal or smaller weighted error where "
        "gstat stops early. The JSON model is accepted as VARIOGRAM_MODEL by the kriging algorithms.<br>"
        + SAMPLE_HELP +
        "<b>Structure 1 / Structure 2</b> (STRUCTURE_1, STRUCTURE_2): model type of each structure (structure 2 "
        "may be none).<br>"
        "<b>Starting values</b> (NUGGET, PSILL_1, RANGE_1, PSILL_2, RANGE_2, optional): where the fit starts, as "
        "in gstat's <i>vgm()</i>; ranges are practical ranges in map units. Empty: derived from the experimental "
        "variogram. <b>Fit ranges</b> (FIT_RANGES): unticked keeps the ranges and fits nugget and sills only "
        "(a linear problem with one answer).<br>"
        "<b>Lag classes</b> (LAGS), <b>Maximum lag</b> (MAX_LAG): as in <i>Fit variogram</i> (gstat's defaults).<br>"
        "<b>Outputs</b>: OUTPUT_MODEL (JSON), OUTPUT_REPORT (HTML with the variogram plot), SSERR (gstat's "
        "weighted error of the fit)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.add_sample_params()
        self.addParameter(enum_parameter("STRUCTURE_1", self.tr("Structure 1"), STRUCTURES, "spherical"))
        self.addParameter(enum_parameter("STRUCTURE_2", self.tr("Structure 2"), SECOND, "spherical"))
        for name, label in (("NUGGET", "Nugget (start)"), ("PSILL_1", "Partial sill 1 (start)"),
                            ("RANGE_1", "Range 1 (start)"), ("PSILL_2", "Partial sill 2 (start)"),
                            ("RANGE_2", "Range 2 (start)")):
            self.addParameter(QgsProcessingParameterNumber(
                name, self.tr(label), NUMBER_DOUBLE, optional=True, minValue=0.0))
        self.addParameter(QgsProcessingParameterBoolean("FIT_RANGES", self.tr("Fit ranges"), defaultValue=True))
        self.addParameter(QgsProcessingParameterNumber(
            "LAGS", self.tr("Lag classes"), NUMBER_INTEGER, defaultValue=15, minValue=2))
        self.addParameter(QgsProcessingParameterNumber(
            "MAX_LAG", self.tr("Maximum lag distance"), NUMBER_DOUBLE, optional=True,
            minValue=0.0))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT_MODEL", self.tr("Variogram model"), "JSON files (*.json)"))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT_REPORT", self.tr("Variogram report"), "HTML files (*.html)"))
        self.addOutput(QgsProcessingOutputNumber("SSERR", "SSErr"))

    def execute(self, parameters, context, feedback):
        from ...core.geostats.nested import NestedModel, Structure, fit_nested, initial_nested
        from ...core.geostats.report import write_variogram_report
        from ...core.geostats.variogram import experimental_variogram
        from ...core.io.atomic import write_text_atomic

        samples, _, _, field = self.read_samples(parameters, context, feedback)
        ev = experimental_variogram(samples.coords, samples.values, self.parameterAsInt(parameters, "LAGS", context),
                                    optional_number(self, parameters, "MAX_LAG", context) or None)
        kinds = [STRUCTURES[self.parameterAsEnum(parameters, "STRUCTURE_1", context)]]
        second = SECOND[self.parameterAsEnum(parameters, "STRUCTURE_2", context)]
        if second != "none":
            kinds.append(second)
        auto = initial_nested(ev, tuple(kinds))
        nugget = optional_number(self, parameters, "NUGGET", context)
        structures = []
        for i, (kind, s) in enumerate(zip(kinds, auto.structures), start=1):
            psill = optional_number(self, parameters, f"PSILL_{i}", context)
            rng = optional_number(self, parameters, f"RANGE_{i}", context)
            if rng == 0:
                raise GeoMLError(f"Range {i} must be a positive distance (or empty).")
            structures.append(Structure(kind, s.psill if psill is None else psill, s.range if rng is None else rng))
        start = NestedModel(auto.nugget if nugget is None else nugget, tuple(structures))
        feedback.pushInfo(f"Start: {start.describe()}")
        model, err = fit_nested(ev, start, fit_ranges=self.parameterAsBoolean(parameters, "FIT_RANGES", context))
        if model.psill <= 0:
            raise GeoMLError("The fitted partial sills are zero: the values show no spatial structure to krige.")
        vanished = [i + 1 for i, s in enumerate(model.structures) if s.psill <= 1e-9 * model.sill]
        if vanished:
            feedback.pushWarning(f"Structure {', '.join(map(str, vanished))} fitted with a zero partial sill: "
                                 "the data do not support it; consider one structure.")
        feedback.pushInfo(f"Fitted {model.describe()}; SSErr {err:.6g}")
        model_path = self.model_output(parameters, context, feedback)
        report_path = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context)
        write_text_atomic(model_path, model.to_json())
        write_variogram_report(report_path, ev, model, {"nested (SSErr)": err}, field, samples.summary())
        return {"OUTPUT_MODEL": model_path, "OUTPUT_REPORT": report_path, "SSERR": err}
