"""Shared plumbing of the borehole algorithms: layers into tables, samples out to a styled GeoPackage."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from qgis.core import QgsVectorLayer
from qgis.PyQt.QtGui import QColor

from ...compat import WKB_NO_GEOMETRY, sphere_point_symbol
from ...core.errors import GeoMLError
from ...core.io.atomic import staged_path
from ...core.io.style import category_color
from ...core.io.vector import PointTable, write_points
from ..common.qgisio import source_to_points
from ..common.fields import field_parameter
from ..common.parameters import enum_parameter
from ..common.styling import categorized, style_vector_output


def source_frame(source, what: str, feedback=None) -> tuple[pd.DataFrame, np.ndarray | None, str]:
    """All attributes of a layer or table, its point coordinates (n, 3) if it has points, and its CRS WKT."""
    if source is None:
        raise GeoMLError(f"The {what} could not be read.")
    table = source_to_points(source, feedback=feedback, require_coordinates=False)
    if not len(table):
        raise GeoMLError(f"The {what} is empty.")
    if source.wkbType() == WKB_NO_GEOMETRY:
        return table.attributes, None, table.crs_wkt
    z = table.z if table.z is not None else np.full(len(table), np.nan)
    return table.attributes, np.column_stack([table.x, table.y, z]), table.crs_wkt


def downhole_positions(xyz: np.ndarray | None, depth: np.ndarray | None, n: int,
                       what: str = "input") -> np.ndarray:
    """Sample positions ``(n, 3)`` for :func:`build_samples`: the points' XYZ, or NaN positions when
    the table has no geometry (the depth field then orders the samples); refuses a layer that has
    neither Z nor a depth field."""
    if xyz is None:
        if depth is None:
            raise GeoMLError(f"The {what} has no point geometry: choose its depth field.")
        return np.column_stack([np.zeros(n), np.zeros(n), np.full(n, np.nan)])
    if depth is None and np.isnan(xyz[:, 2]).any():
        raise GeoMLError("The points have no Z: choose the depth field to order samples down the holes.")
    return xyz


def style_3d(path: str, field: str, labels: dict[int, str], radius: float) -> bool:
    """Add a 3D renderer (one sphere colour per category of *field*, at the points' own Z) to the
    GeoPackage's default style, so the layer shows in the 3D map view; False if QGIS lacks 3D."""
    try:
        from qgis._3d import QgsPhongMaterialSettings, QgsRuleBased3DRenderer
    except ImportError:
        return False
    layer = QgsVectorLayer(staged_path(path), Path(path).stem, "ogr")  # the 2D default style saved just before
    if not layer.isValid():
        return False
    root = QgsRuleBased3DRenderer.Rule(None)
    for value, label in sorted(labels.items()):
        material = QgsPhongMaterialSettings()
        material.setDiffuse(QColor(category_color(int(value))))
        material.setAmbient(QColor(category_color(int(value))).darker(150))
        symbol = sphere_point_symbol(radius, material)
        root.appendChild(QgsRuleBased3DRenderer.Rule(symbol, f'"{field}" = {int(value)}', str(label)))
    layer.setRenderer3D(QgsRuleBased3DRenderer(root))
    # a new name: overwriting the 2D style's row blocks on QGIS 3.22; this one becomes the default
    layer.saveStyleToDatabase(f"{layer.name()} 2D+3D", "GeoML default style with the 3D view", True, "")
    return True


def write_clusters(alg, context, parameters, name: str, frame: pd.DataFrame, crs_wkt: str, field: str,
                   labels: dict[int, str]) -> str:
    """Write *frame* (with x, y, z columns) as a PointZ GeoPackage styled by categories of *field*,
    in 2D and in the 3D map view."""
    path = alg.parameterAsOutputLayer(parameters, name, context)
    if not path.lower().endswith(".gpkg"):
        raise GeoMLError(f"Save {name} as a GeoPackage (.gpkg) file; got '{path}'.")
    attrs = frame.drop(columns=["x", "y", "z"]).copy()
    for col in attrs.columns:
        if attrs[col].dtype == object:
            attrs[col] = attrs[col].astype(str)
    write_points(path, PointTable(frame["x"].to_numpy(float), frame["y"].to_numpy(float),
                                  frame["z"].to_numpy(float), attrs, crs_wkt))
    style_vector_output(alg, context, path, categorized(field, labels))
    steps = np.diff(frame["depth"].to_numpy(float)) if "depth" in frame else np.array([])
    steps = steps[steps > 0]
    style_3d(path, field, labels, 0.4 * float(np.median(steps)) if steps.size else 1.0)
    return path


SURVEY_FIELDS = ("SURVEY_HOLE_FIELD", "SURVEY_DEPTH_FIELD", "SURVEY_AZIMUTH_FIELD", "SURVEY_DIP_FIELD")


def add_survey_parameters(alg) -> None:
    """The optional survey table (hole, depth, azimuth, dip) and its dip convention."""
    from qgis.core import QgsProcessingParameterFeatureSource

    from ...compat import SOURCE_VECTOR
    from ...core.borehole.survey import DIP_CONVENTIONS

    alg.addParameter(QgsProcessingParameterFeatureSource("SURVEY", alg.tr("Survey table"), [SOURCE_VECTOR], optional=True))
    for name, label, role in zip(SURVEY_FIELDS, ("Survey hole id field", "Survey depth field",
                                                 "Survey azimuth field", "Survey dip field"),
                                 ("hole", "depth", "azimuth", "dip")):
        alg.addParameter(field_parameter(name, alg.tr(label), "SURVEY", role, optional=True))
    alg.addParameter(enum_parameter("DIP_CONVENTION", alg.tr("Survey dips are"), DIP_CONVENTIONS, "negative_down"))


def survey_table(alg, parameters, context, feedback) -> pd.DataFrame | None:
    """The survey table as columns hole, depth, azimuth, dip (None when not given)."""
    from ...core.borehole.assays import hole_ids
    from ...core.io.vector import numeric_column

    source = alg.parameterAsSource(parameters, "SURVEY", context)
    if source is None:
        return None
    f = {n: alg.parameterAsString(parameters, n, context) for n in SURVEY_FIELDS}
    missing = [n.split("_")[1].lower() for n, v in f.items() if not v]
    if missing:
        raise GeoMLError(f"Choose the survey table's {', '.join(missing)} field(s).")
    table, _, _ = source_frame(source, "survey table", feedback)
    return pd.DataFrame({"hole": hole_ids(table[f["SURVEY_HOLE_FIELD"]]),
                         "depth": numeric_column(table, f["SURVEY_DEPTH_FIELD"]),
                         "azimuth": numeric_column(table, f["SURVEY_AZIMUTH_FIELD"]),
                         "dip": numeric_column(table, f["SURVEY_DIP_FIELD"])})


CLEANING_HELP = (
    "<b>Missing-value codes</b> (default -9999, -999, -99; add your laboratory's, e.g. IS, LNR) are missing, never "
    "detection limits; <b>Negative values are</b> below-detection flags (-0.01 = below 0.01, replaced by half of "
    "it), missing, or an error.")


def add_cleaning_parameters(alg) -> None:
    """MISSING_VALUES and NEGATIVE_VALUES (advanced): how assay cells are cleaned, the same in every
    borehole algorithm."""
    from qgis.core import QgsProcessingParameterString

    from ...compat import set_advanced
    from ...core.borehole.assays import DEFAULT_MISSING_CODES, NEGATIVE_CONVENTIONS
    from ..common.parameters import enum_parameter

    for p in (QgsProcessingParameterString("MISSING_VALUES", alg.tr("Missing-value codes (numbers or text)"),
                                           ", ".join(f"{v:g}" for v in DEFAULT_MISSING_CODES), optional=True),
              enum_parameter("NEGATIVE_VALUES", alg.tr("Negative values are"), NEGATIVE_CONVENTIONS,
                             "detection_limit")):
        set_advanced(p)
        alg.addParameter(p)


def cleaning_options(alg, parameters, context) -> dict:
    """The keyword arguments of :func:`~geoml_qgis.core.borehole.samples.build_samples` for cleaning:
    missing-value codes and the convention for negative assay values."""
    import re

    from ...core.borehole.assays import NEGATIVE_CONVENTIONS

    text = alg.parameterAsString(parameters, "MISSING_VALUES", context) or ""
    codes = [c for c in re.split(r"[,;\s]+", text) if c]
    return {"missing_values": codes,
            "negative": NEGATIVE_CONVENTIONS[alg.parameterAsEnum(parameters, "NEGATIVE_VALUES", context)]}
