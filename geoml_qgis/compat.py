"""Every QGIS / Qt version difference the plugin meets, in one place (QGIS 3.22 to 4.x, Qt5 and Qt6).

QGIS 3.30-3.38 moved many enums into ``Qgis`` (``Qgis.ProcessingSourceType``,
``Qgis.WkbType``, ...) and field types from ``QVariant.Type`` to ``QMetaType.Type``;
Qt6 builds (QGIS 4) accept only fully scoped enum names. The constants here are the
newest spelling the running QGIS has, else the scoped spelling of QGIS 3.22, so the
rest of the plugin never writes a version check. ``tests/qgis/test_compat.py``
fails on any unscoped or Qt5-only idiom outside this module.
"""
from __future__ import annotations

from typing import Any

from qgis.core import (
    Qgis,
    QgsFeatureSink,
    QgsField,
    QgsLayoutExporter,
    QgsProcessing,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsUnitTypes,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QMetaType, QVariant

QGIS_VERSION = Qgis.versionInt()  # e.g. 32216, 34006


def _scoped(new_owner: Any, new_path: str, old_owner: Any, old_path: str) -> Any:
    """``new_owner.new_path`` where this QGIS has it, else ``old_owner.old_path`` (dotted paths)."""
    for owner, path in ((new_owner, new_path), (old_owner, old_path)):
        value = owner
        try:
            for part in path.split("."):
                value = getattr(value, part)
        except AttributeError:
            continue
        return value
    raise AttributeError(f"Neither {new_path} nor {old_path} exists in this QGIS")


# Processing source types (feature-source, multiple-layer and sink parameters)
SOURCE_VECTOR_POINT = _scoped(Qgis, "ProcessingSourceType.VectorPoint", QgsProcessing, "SourceType.TypeVectorPoint")
SOURCE_VECTOR_POLYGON = _scoped(Qgis, "ProcessingSourceType.VectorPolygon", QgsProcessing,
                                "SourceType.TypeVectorPolygon")
SOURCE_VECTOR_ANY_GEOMETRY = _scoped(Qgis, "ProcessingSourceType.VectorAnyGeometry", QgsProcessing,
                                     "SourceType.TypeVectorAnyGeometry")
SOURCE_VECTOR = _scoped(Qgis, "ProcessingSourceType.Vector", QgsProcessing, "SourceType.TypeVector")  # tables too
SOURCE_RASTER = _scoped(Qgis, "ProcessingSourceType.Raster", QgsProcessing, "SourceType.TypeRaster")

# number and field parameter types
NUMBER_INTEGER = _scoped(Qgis, "ProcessingNumberParameterType.Integer", QgsProcessingParameterNumber, "Type.Integer")
NUMBER_DOUBLE = _scoped(Qgis, "ProcessingNumberParameterType.Double", QgsProcessingParameterNumber, "Type.Double")
FIELD_ANY = _scoped(Qgis, "ProcessingFieldParameterDataType.Any", QgsProcessingParameterField, "DataType.Any")
FIELD_NUMERIC = _scoped(Qgis, "ProcessingFieldParameterDataType.Numeric", QgsProcessingParameterField,
                        "DataType.Numeric")
FIELD_STRING = _scoped(Qgis, "ProcessingFieldParameterDataType.String", QgsProcessingParameterField,
                       "DataType.String")

PARAMETER_ADVANCED = _scoped(Qgis, "ProcessingParameterFlag.Advanced", QgsProcessingParameterDefinition,
                             "Flag.FlagAdvanced")
PARAMETER_OPTIONAL = _scoped(Qgis, "ProcessingParameterFlag.Optional", QgsProcessingParameterDefinition,
                             "Flag.FlagOptional")

# geometry and sinks
WKB_POINT = _scoped(Qgis, "WkbType.Point", QgsWkbTypes, "Type.Point")
WKB_POINT_Z = _scoped(Qgis, "WkbType.PointZ", QgsWkbTypes, "Type.PointZ")
WKB_NO_GEOMETRY = _scoped(Qgis, "WkbType.NoGeometry", QgsWkbTypes, "Type.NoGeometry")
GEOMETRY_POINT = _scoped(Qgis, "GeometryType.Point", QgsWkbTypes, "GeometryType.PointGeometry")
FAST_INSERT = _scoped(Qgis, "FeatureSinkFlag.FastInsert", QgsFeatureSink, "Flag.FastInsert")

# print layouts
LAYOUT_MILLIMETERS = _scoped(Qgis, "LayoutUnit.Millimeters", QgsUnitTypes, "LayoutUnit.LayoutMillimeters")
EXPORT_SUCCESS = _scoped(Qgis, "LayoutExportResult.Success", QgsLayoutExporter, "ExportResult.Success")


def set_advanced(parameter: QgsProcessingParameterDefinition) -> QgsProcessingParameterDefinition:
    """*parameter* moved under the dialog's Advanced section; returns it."""
    parameter.setFlags(parameter.flags() | PARAMETER_ADVANCED)
    return parameter


def has_geometry(source) -> bool:
    """Whether a feature source has geometries (False for an attribute-only table)."""
    return source.wkbType() != WKB_NO_GEOMETRY


def is_point_source(source) -> bool:
    """Whether a feature source holds points (single or multi)."""
    return QgsWkbTypes.geometryType(source.wkbType()) == GEOMETRY_POINT


# attribute fields: QVariant.Type until QGIS 3.36, QMetaType.Type from 3.38 (QVariant.Type is gone in Qt6)


def _field_type(name: str):
    if QGIS_VERSION >= 33800:
        return getattr(QMetaType.Type, name)
    return getattr(QVariant.Type, "String" if name == "QString" else name)


def new_field(name: str, kind: str) -> QgsField:
    """A ``QgsField`` of *kind* ``"int"`` (64-bit), ``"float"``, ``"str"`` or ``"bool"``."""
    qt_name = {"int": "LongLong", "float": "Double", "str": "QString", "bool": "Bool"}[kind]
    return QgsField(str(name), _field_type(qt_name))


def is_null(value) -> bool:
    """Whether an attribute value read from QGIS is NULL (None, or a null QVariant)."""
    return value is None or (isinstance(value, QVariant) and value.isNull())


# 3D symbols (qgis._3d is optional: QGIS builds without 3D lack it) ------------------------------
def sphere_point_symbol(radius: float, material):
    """A 3D point symbol: spheres of *radius* map units at the features' own Z, with *material*
    (a ``QgsPhongMaterialSettings``)."""
    from qgis._3d import Qgs3DTypes, QgsPoint3DSymbol

    symbol = QgsPoint3DSymbol()
    symbol.setShape(_scoped(Qgis, "Point3DShape.Sphere", QgsPoint3DSymbol, "Shape.Sphere"))
    symbol.setShapeProperties({"radius": float(radius)})
    symbol.setAltitudeClamping(_scoped(Qgis, "AltitudeClamping.Absolute", Qgs3DTypes,
                                       "AltitudeClamping.AltClampAbsolute"))
    set_point_material(symbol, material)
    return symbol


def set_point_material(symbol, material) -> None:
    """Give a ``QgsPoint3DSymbol`` its material: ``setMaterialSettings`` (QGIS 3.26+; ``setMaterial``
    is gone by 3.40), ``setMaterial`` on older versions."""
    if hasattr(symbol, "setMaterialSettings"):
        symbol.setMaterialSettings(material)
    else:
        symbol.setMaterial(material)
