"""geoml:logratiotransform — alr, clr or ilr coordinates of compositions (and back) as new fields."""
from __future__ import annotations

from qgis.core import (
    QgsFeature,
    QgsFields,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterNumber,
)

from ...compat import FAST_INSERT, NUMBER_DOUBLE, SOURCE_VECTOR, is_null, new_field, set_advanced
from ...core.borehole.compositional import LOG_RATIOS
from ...core.errors import GeoMLError
from ..common.base import GeoMLAlgorithm
from ..common.fields import field_parameter
from ..common.parameters import enum_parameter


class LogRatioTransform(GeoMLAlgorithm):
    NAME = "logratiotransform"
    DISPLAY_NAME = "Log-ratio transform of compositions (alr, clr, ilr and inverses)"
    PARAMETER_HELP = {
        "ZERO_REPLACEMENT": "Zeros (and values below detection) are replaced by this fraction of the part's smallest "
                            "positive value before taking logs.",
        "INPUT": "Table or layer with the compositional parts (element or oxide values) as fields.",
        "FIELDS": "The parts of the composition; for the inverse, the log-ratio coordinates.",
        "TOTAL": "Total the parts add up to after the inverse transform (e.g. 100 for %, 1e6 for ppm).",
    }
    GROUP = "borehole"
    HELP = (
        "Adds log-ratio coordinates of the chosen parts (element concentrations in any one unit, or "
        "mixed units: ratios are what count) to every feature, keeping its geometry and attributes.<br>"
        "<b>Log-ratio</b>: <i>alr</i> ln(part / denominator part), <i>clr</i> ln(part / geometric mean of "
        "the row), <i>ilr</i> orthonormal balances: balance i contrasts the first i parts (geometric mean) "
        "with part i+1, scaled by sqrt(i / (i + 1)); clr and ilr keep Aitchison distances.<br>"
        "<b>Inverse</b>: the chosen fields are coordinates; the parts are returned closed to <b>Total</b> "
        "(e.g. 1, 100 or 1e6): log-ratios keep ratios, not absolute levels.<br>"
        "<b>Denominator field</b> (alr; default the last part). Zeros are replaced multiplicatively by "
        "<b>Zero replacement</b> x the part's smallest positive value, the other parts of the row shrunk "
        "so its total is kept. Negative values or blanks are refused naming the row (clean detection-limit "
        "codes first, e.g. with the clustering's cleaning).<br>"
        "Output: the features with new fields alr_&lt;part&gt;, clr_&lt;part&gt;, ilr_&lt;i&gt; or the parts."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFeatureSource("INPUT", self.tr("Table or layer"), [SOURCE_VECTOR]))
        self.addParameter(field_parameter("FIELDS", self.tr("Parts (or coordinates, inverse)"), "INPUT",
                                          multiple=True))
        self.addParameter(enum_parameter("LOG_RATIO", self.tr("Log-ratio"), LOG_RATIOS, "clr"))
        self.addParameter(QgsProcessingParameterBoolean("INVERSE", self.tr("Inverse (coordinates to parts)"), False))
        self.addParameter(field_parameter("DENOMINATOR_FIELD", self.tr("Denominator field (alr)"), "INPUT",
                                          optional=True))
        self.addParameter(set_advanced(QgsProcessingParameterNumber(
            "ZERO_REPLACEMENT", self.tr("Zero replacement (fraction)"), NUMBER_DOUBLE,
            0.65, minValue=1e-6, maxValue=1.0)))
        self.addParameter(set_advanced(QgsProcessingParameterNumber("TOTAL", self.tr("Total of the parts (inverse)"),
                                                                    NUMBER_DOUBLE, 1.0, minValue=1e-12)))
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", self.tr("Transformed")))

    def execute(self, parameters, context, feedback):
        import pandas as pd

        from ...core.borehole.compositional import transform_table

        source = self.parameterAsSource(parameters, "INPUT", context)
        if source is None:
            raise GeoMLError("The input table could not be read.")
        names = self.parameterAsFields(parameters, "FIELDS", context)
        if len(names) < (1 if self.parameterAsBoolean(parameters, "INVERSE", context) else 2):
            raise GeoMLError("Choose at least two parts.")
        kind = LOG_RATIOS[self.parameterAsEnum(parameters, "LOG_RATIO", context)]
        inverse = self.parameterAsBoolean(parameters, "INVERSE", context)
        den = self.parameterAsString(parameters, "DENOMINATOR_FIELD", context)
        if den and not inverse and den not in names:
            names = names + [den]
        features = list(source.getFeatures())
        rows = [[None if is_null(f[n]) else f[n] for n in names] for f in features]
        values = pd.DataFrame(rows, columns=names)
        for n in names:
            numeric = pd.to_numeric(values[n], errors="coerce")
            bad = numeric.isna() & values[n].notna()
            if bad.any():
                i = int(bad.to_numpy().nonzero()[0][0])
                raise GeoMLError(f"'{n}' holds '{values[n].iloc[i]}' in row {i + 1}, not a number.")
            values[n] = numeric
        table, notes = transform_table(values, kind, inverse, names.index(den) if den and not inverse else -1,
                                       self.parameterAsDouble(parameters, "TOTAL", context),
                                       self.parameterAsDouble(parameters, "ZERO_REPLACEMENT", context))
        for note in notes:
            feedback.pushInfo(note)
        fields = QgsFields(source.fields())
        existing = set(fields.names())
        clash = [c for c in table.columns if c in existing]
        if clash:
            raise GeoMLError(f"The input already has field(s) {', '.join(clash)}; rename them first.")
        for c in table.columns:
            fields.append(new_field(c, "float"))
        sink, dest = self.parameterAsSink(parameters, "OUTPUT", context, fields, source.wkbType(), source.sourceCrs())
        if sink is None:
            raise GeoMLError("The output could not be created.")
        new = table.to_numpy(float)
        for i, f in enumerate(features):
            out = QgsFeature(fields)
            out.setGeometry(f.geometry())
            out.setAttributes(list(f.attributes()) + [float(v) for v in new[i]])
            sink.addFeature(out, FAST_INSERT)
        return {"OUTPUT": dest}
