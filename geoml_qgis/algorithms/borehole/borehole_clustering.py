"""geoml:boreholeclustering — assays clustered with an automatic number of clusters, as a 3D layer,
an Excel workbook and an HTML report."""
from __future__ import annotations

import numpy as np
from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterCrs,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterVectorDestination,
)

from ...compat import NUMBER_DOUBLE, NUMBER_INTEGER, SOURCE_VECTOR, SOURCE_VECTOR_POINT, set_advanced
from ...core.borehole.clustering import METHODS
from ...core.borehole.pipeline import K_METHODS
from ...core.borehole.transforms import TRANSFORMS
from ...core.errors import GeoMLError
from ...core.io.crs import require_projected
from ..common.base import GeoMLAlgorithm, progress_callback
from ..common.choices import OneOf
from ..common.fields import field_parameter
from ..common.parameters import enum_choice, enum_parameter
from .io import (CLEANING_HELP, add_cleaning_parameters, add_survey_parameters, cleaning_options, source_frame,
                 survey_table, write_clusters)


class BoreholeClustering(GeoMLAlgorithm):
    NAME = "boreholeclustering"
    DISPLAY_NAME = "Cluster borehole assays (automatic number of clusters)"
    PARAMETER_HELP = {
        "FROM_FIELD": "Start depth of each interval along the hole (from, from_m, depth_from... found by name); with "
                      "a collar table.",
        "TO_FIELD": "End depth of each interval along the hole (to, to_m, depth_to... found by name); with a collar "
                    "table.",
        "K_MAX": "Largest number of clusters tried when the number is chosen automatically.",
        "K_METHOD": "How the number of clusters is chosen: separation of distinct units (default), gap statistic, "
                    "vote of elbow and indices, or BIC of Gaussian mixtures.",
        "MAX_LAG": "Largest lag of the continuity curves, map units; 0 = half the median hole length downhole, a "
                   "third of the data extent in 3D.",
        "OUTPUT_LOGS": "Optional PDF, one page per hole: the cluster column and element curves against depth.",
    }
    GROUP = "borehole"
    ONE_OF = (OneOf("the sample locations", (("COLLARS", "FROM_FIELD", "TO_FIELD"),
                                             ("X_FIELD", "Y_FIELD"), ("INPUT:points",))),)
    HELP = (
        "Groups drill-hole samples by composition with k-means (or a Gaussian mixture), choosing the "
        "number of clusters automatically, and writes a 3D point layer (open it in View > 3D Map View), "
        "an Excel workbook and an HTML report.<br>"
        "<b>Assay table</b>: a CSV, XLSX or layer with one row per sample. Either each row has X, Y and "
        "Z (or a point geometry, or X, Y and a depth), or each row is a FROM/TO interval of a hole whose "
        "collar is in the <b>Collar table</b>.<br>"
        "<b>Hole id field</b>: the drill-hole name. Without it every sample is treated as its own "
        "surface sample (no downhole statistics). A sample without a hole id is an error.<br>"
        "<b>X / Y / Z fields</b>: sample coordinates (leave X and Y empty to use the layer's points). "
        "<b>Depth field</b>: along-hole depth; with X and Y but no Z, samples are placed at Z = -depth "
        "(vertical holes from elevation 0). Without a depth, samples are ordered by falling Z.<br>"
        "<b>Collar table</b> with its hole id, X, Y, elevation and optional azimuth (degrees from north) "
        "and dip (degrees from horizontal, the sign is ignored: holes go down; vertical when absent), "
        "and the <b>From / To fields</b> of the assay table: samples sit at interval midpoints along "
        "straight holes, or, with a <b>Survey table</b> (hole id, depth, azimuth, dip; dips negative downward "
        "unless <b>Dip convention</b> says otherwise), along the holes desurveyed by minimum curvature "
        "(see <i>Desurvey drill holes</i>).<br>"
        "<b>Element fields</b>: the assays to cluster on, in any units (ppm, %, ppb). Below-detection "
        "values such as '&lt;0.01', negative numbers (-0.01 meaning &lt;0.01) and an '&lt;element&gt;_flag' "
        "column holding '&lt;' are replaced by half the detection limit; zeros by half the element's smallest "
        "positive value; samples with a blank element are dropped; constant elements are ignored; "
        "duplicate samples at one position of one hole are averaged. Every substitution is counted in the "
        "report and the workbook. Other text is an error naming the row.<br>"
        "<b>Transform</b>: clr (centred log-ratio, the default for compositional data), log, or none. Clusters "
        "are formed in the log-ratios as they are (Aitchison distances; for clr its balances), not standardised, "
        "so pure-noise elements do not weigh like informative ones; below-detection cells are spread below their "
        "limit so that they do not form a cluster of their own; with none the values are standardised.<br>"
        "<b>Number of clusters</b>: 0 chooses it from 1 to <b>Largest number of clusters</b> by separation: the most "
        "clusters (k-means, and each cluster of the previous k split in two) that are all well apart (Mahalanobis "
        "distance under their pooled covariance), not tiny and not mixtures of two others, as samples across "
        "gradational contacts are, whether their mean or their samples one by one lie on mixing lines (right most "
        "often on a family of synthetic drilling sets, see the README); that partition starts the final clustering. "
        "With log or clr, k-means labels are then refined by the assay noise model (log-normal noise, below-detection "
        "cells as censored, cluster shares as priors). Or (<b>How to choose</b>, "
        "advanced) by the gap statistic (k-means against structureless reference sets), the vote of the elbow "
        "(knee) of the inertia curve, the silhouette, Calinski-Harabasz and Davies-Bouldin indices, or the BIC of "
        "Gaussian mixtures with a shared covariance. The report and workbook give the chosen k, the runner-up and "
        "how strongly it is rejected, and say when the "
        "evidence is weak. The separation choice of each hole on its own is reported too.<br>"
        "<b>Method</b>: k-means, or a Gaussian mixture (for elongated clusters).<br>"
        "<b>Maximum lag</b> for the continuity curves (0 = half the median hole length downhole, a third "
        "of the data extent in 3D). <b>Seed</b> makes runs repeatable. <b>CRS</b> for tables without "
        "geometry. " + CLEANING_HELP + " Every substitution is counted in the log, report and "
        "workbook (sheet 'cleaning').<br>"
        "Outputs: <b>Clustered samples</b> (PointZ GeoPackage with hole, depth, element values, "
        "<i>cluster</i>, pc1, pc2; styled by cluster), <b>Workbook</b> (.xlsx: samples, cluster_summary, "
        "k_selection, k_votes, k_per_hole, continuity, cleaning, notes), <b>Report</b> (HTML: pair plot, "
        "elbow and index plots, PCA view, transiogram-like continuity curves, i.e. the probability that two "
        "samples a lag h apart fall in each pair of clusters, downhole and in 3D; strip logs of a few holes, a "
        "vertical section along the collars' main direction and a 3D view of the clustered samples), "
        "<b>Strip logs</b> (optional PDF: one page per hole, cluster column and element curves against depth)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFeatureSource("INPUT", self.tr("Assay table"), [SOURCE_VECTOR]))
        for name, label, role in (("HOLE_FIELD", "Hole id field", "hole"), ("X_FIELD", "X field (or points, or collars)", "x"),
                                  ("Y_FIELD", "Y field (or points, or collars)", "y"),
                                  ("Z_FIELD", "Z (elevation) field", "z"), ("DEPTH_FIELD", "Depth field", "depth"),
                                  ("FROM_FIELD", "From field (with collars)", "from"),
                                  ("TO_FIELD", "To field (with collars)", "to")):
            self.addParameter(field_parameter(name, self.tr(label), "INPUT", role, optional=True))
        self.addParameter(field_parameter("ELEMENT_FIELDS", self.tr("Element fields"), "INPUT", multiple=True))
        self.addParameter(QgsProcessingParameterFeatureSource("COLLARS", self.tr("Collar table (or X/Y, or points)"),
                                                              [SOURCE_VECTOR], optional=True))
        for name, label, role in (("COLLAR_HOLE_FIELD", "Collar hole id field", "hole"),
                                  ("COLLAR_X_FIELD", "Collar X field", "x"), ("COLLAR_Y_FIELD", "Collar Y field", "y"),
                                  ("COLLAR_Z_FIELD", "Collar elevation field", "z"),
                                  ("AZIMUTH_FIELD", "Azimuth field", "azimuth"), ("DIP_FIELD", "Dip field", "dip")):
            self.addParameter(field_parameter(name, self.tr(label), "COLLARS", role, optional=True))
        add_survey_parameters(self)
        self.addParameter(enum_parameter("TRANSFORM", self.tr("Transform"), TRANSFORMS, "clr"))
        self.addParameter(QgsProcessingParameterNumber("N_CLUSTERS", self.tr("Number of clusters (0 = automatic)"),
                                                       NUMBER_INTEGER, 0, minValue=0))
        self.addParameter(QgsProcessingParameterNumber("K_MAX", self.tr("Largest number of clusters to try"),
                                                       NUMBER_INTEGER, 10, minValue=2, maxValue=50))
        advanced = [
            enum_parameter("METHOD", self.tr("Method"), METHODS, "kmeans"),
            enum_parameter("K_METHOD", self.tr("How to choose the number of clusters"), K_METHODS, "separation"),
            QgsProcessingParameterNumber("MAX_LAG", self.tr("Continuity max. lag (map units)"),
                                         NUMBER_DOUBLE, 0.0, minValue=0.0),
            QgsProcessingParameterNumber("SEED", self.tr("Random seed"), NUMBER_INTEGER, 0),
            QgsProcessingParameterCrs("CRS", self.tr("CRS of tables without geometry"), optional=True),
        ]
        for p in advanced:
            set_advanced(p)
            self.addParameter(p)
        add_cleaning_parameters(self)
        self.addParameter(QgsProcessingParameterVectorDestination("OUTPUT", self.tr("Clustered samples"),
                                                                  SOURCE_VECTOR_POINT))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_WORKBOOK", self.tr("Workbook"),
                                                                "Excel workbook (*.xlsx)"))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_REPORT", self.tr("Report"), "HTML (*.html)"))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_LOGS", self.tr("Strip logs (PDF)"),
                                                                "PDF (*.pdf)", optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber("K_USED", self.tr("Number of clusters used")))

    def _field(self, parameters, name, context) -> str | None:
        return self.parameterAsString(parameters, name, context) or None

    def _samples(self, parameters, context, feedback):
        from ...core.borehole.assays import hole_ids
        from ...core.borehole.samples import build_samples, collar_frame
        from ...core.io.vector import numeric_column

        f = {n: self._field(parameters, n, context) for n in (
            "HOLE_FIELD", "X_FIELD", "Y_FIELD", "Z_FIELD", "DEPTH_FIELD", "FROM_FIELD", "TO_FIELD",
            "COLLAR_HOLE_FIELD", "COLLAR_X_FIELD", "COLLAR_Y_FIELD", "COLLAR_Z_FIELD", "AZIMUTH_FIELD", "DIP_FIELD")}
        table, geom_xyz, crs = source_frame(self.parameterAsSource(parameters, "INPUT", context), "assay table", feedback)
        crs_param = self.parameterAsCrs(parameters, "CRS", context)
        if not crs and crs_param.isValid():
            crs = crs_param.toWkt()
        elements = self.parameterAsFields(parameters, "ELEMENT_FIELDS", context)
        hole = hole_ids(table[f["HOLE_FIELD"]]) if f["HOLE_FIELD"] else None
        collars_src = self.parameterAsSource(parameters, "COLLARS", context)
        if collars_src is not None:
            if not (f["FROM_FIELD"] and f["TO_FIELD"]):
                raise GeoMLError("With a collar table, choose the FROM and TO fields of the assay table.")
            if hole is None:
                raise GeoMLError("With a collar table, choose the hole id field of the assay table.")
            ctable, _, ccrs = source_frame(collars_src, "collar table", feedback)
            need = {"COLLAR_X_FIELD": "X", "COLLAR_Y_FIELD": "Y", "COLLAR_Z_FIELD": "elevation"}
            missing = [v for k, v in need.items() if not f[k]]
            if missing:
                raise GeoMLError(f"Choose the collar {', '.join(missing)} field(s).")
            collars = collar_frame(ctable, f["COLLAR_HOLE_FIELD"] or f["HOLE_FIELD"], f["COLLAR_X_FIELD"],
                                   f["COLLAR_Y_FIELD"], f["COLLAR_Z_FIELD"], f["AZIMUTH_FIELD"], f["DIP_FIELD"])
            intervals = (numeric_column(table, f["FROM_FIELD"]), numeric_column(table, f["TO_FIELD"]))
            from ...core.borehole.survey import DIP_CONVENTIONS

            return build_samples(table, elements, hole, intervals=intervals, collars=collars, crs_wkt=crs or ccrs,
                                 survey=survey_table(self, parameters, context, feedback),
                                 dip_convention=DIP_CONVENTIONS[self.parameterAsEnum(parameters, "DIP_CONVENTION", context)],
                                 **cleaning_options(self, parameters, context))
        if f["X_FIELD"] and f["Y_FIELD"]:
            z = numeric_column(table, f["Z_FIELD"]) if f["Z_FIELD"] else np.full(len(table), np.nan)
            xyz = np.column_stack([numeric_column(table, f["X_FIELD"]), numeric_column(table, f["Y_FIELD"]), z])
        elif geom_xyz is not None:
            xyz = geom_xyz.copy()
            if f["Z_FIELD"]:
                xyz[:, 2] = numeric_column(table, f["Z_FIELD"])
        else:
            raise GeoMLError("The assay table has no point geometry: choose its X and Y fields, or give a collar "
                             "table with FROM and TO fields.")
        depth = numeric_column(table, f["DEPTH_FIELD"]) if f["DEPTH_FIELD"] else None
        if depth is None and np.isnan(xyz[:, 2]).any():
            raise GeoMLError("Samples need a Z (elevation) or a depth: choose the Z field or the depth field.")
        return build_samples(table, elements, hole, xyz=xyz, depth=depth, crs_wkt=crs, **cleaning_options(self, parameters, context))

    def execute(self, parameters, context, feedback):
        from ...core.borehole.pipeline import run_clustering
        from ...core.borehole.report import clustering_report
        from ...core.borehole.workbook import clustering_sheets, write_workbook
        from ..common.parameters import core_arguments

        samples = self._samples(parameters, context, feedback)
        require_projected(samples.crs_wkt, "the assay table")
        transform = enum_choice(self, parameters, "TRANSFORM", TRANSFORMS, context)
        with core_arguments(k_max="K_MAX"):
            outcome = run_clustering(
                samples, transform,
                n_clusters=self.parameterAsInt(parameters, "N_CLUSTERS", context),
                k_max=self.parameterAsInt(parameters, "K_MAX", context),
                method=enum_choice(self, parameters, "METHOD", METHODS, context),
                k_method=K_METHODS[self.parameterAsEnum(parameters, "K_METHOD", context)],
                max_lag=self.parameterAsDouble(parameters, "MAX_LAG", context),
                seed=self.parameterAsInt(parameters, "SEED", context),
                progress=progress_callback(feedback),
            )
        for note in outcome.notes:
            feedback.pushInfo(note)
        workbook = self.parameterAsFileOutput(parameters, "OUTPUT_WORKBOOK", context)
        report = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context)
        write_workbook(workbook, clustering_sheets(outcome))
        clustering_report(outcome, report)
        logs = self.parameterAsFileOutput(parameters, "OUTPUT_LOGS", context)
        if logs:
            from ...core.borehole.logs import strip_logs_pdf

            pages = strip_logs_pdf(logs, outcome.sample_frame(), samples.elements)
            feedback.pushInfo(f"{pages} strip log page(s) written.")
        layer = write_clusters(self, context, parameters, "OUTPUT", outcome.sample_frame(), samples.crs_wkt,
                               "cluster", {k: f"cluster {k}" for k in range(1, outcome.k + 1)})
        return {"OUTPUT": layer, "OUTPUT_WORKBOOK": workbook, "OUTPUT_REPORT": report, "OUTPUT_LOGS": logs or None,
                "K_USED": outcome.k}
