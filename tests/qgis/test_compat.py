"""QGIS 4 / Qt6 readiness: the plugin uses only scoped enums and API present from QGIS 3.22 to 4.x.

Qt6 builds (QGIS 4) drop unscoped enum access (``QgsProcessing.TypeVectorPoint``) and the
Qt5-only idioms below; every version difference lives in ``geoml_qgis/compat.py``. No QGIS 4
build is installable here, so this is a static check of the code plus the running QGIS's own
enum types.
"""
from __future__ import annotations

import ast
import enum
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "geoml_qgis"
COMPAT = PLUGIN / "compat.py"

# Spellings that Qt6 builds reject, or that QGIS 3.30-3.40 deprecated or removed; compat.py holds
# the one place each difference is resolved.
FORBIDDEN = {
    r"\bexec_\(": "exec_() is Qt5-only: use exec()",
    r"\bPyQt5\b": "import Qt through qgis.PyQt, never PyQt5 directly",
    r"\bQRegExp\b": "QRegExp is gone in Qt6: use QRegularExpression",
    r"\bQDesktopWidget\b": "QDesktopWidget is gone in Qt6: use QScreen",
    r"\bQVariant\.(Type\b|Int\b|Double\b|String\b|LongLong\b|Bool\b)": "QVariant field types: use compat.new_field",
    r"\bQgsProcessing\.(Type[A-Z]|SourceType)": "source types: use compat.SOURCE_*",
    r"\bQgsProcessingParameterNumber\.(Integer|Double|Type)\b": "number types: use compat.NUMBER_*",
    r"\bQgsProcessingParameterField\.(Numeric|String|Any|DataType)\b": "field types: use compat.FIELD_*",
    r"\bQgsProcessingParameterDefinition\.(Flag)": "parameter flags: use compat.set_advanced",
    r"\bQgsWkbTypes\.(Type\b|[A-Z]\w*Geometry\b|Point\w*\b|NoGeometry\b)": "WKB types: use compat.WKB_*",
    r"\bQgsUnitTypes\.Layout": "layout units: use compat.LAYOUT_*",
    r"\.setMaterial\(": "setMaterial is gone by QGIS 3.40: use compat.set_point_material",
    r"\bQt\.(Align[A-Z]\w*|Checked|Unchecked|Horizontal|Vertical)\b": "Qt enums need their scope (Qt.AlignmentFlag...)",
}
QT_MODULES = ["qgis.core", "qgis.gui", "qgis.analysis", "qgis._3d",
              "qgis.PyQt.QtCore", "qgis.PyQt.QtGui", "qgis.PyQt.QtWidgets"]


def _plugin_files() -> list[Path]:
    return sorted(p for p in PLUGIN.rglob("*.py") if p != COMPAT)


def _is_enum_member(value) -> bool:
    """An enum value: Python enum (PyQt6, QGIS 3.36+ scoped enums) or a sip enum (PyQt5)."""
    return isinstance(value, enum.Enum) or type(type(value)).__name__ == "enumtype"


def _qt_namespace() -> dict[str, object]:
    names: dict[str, object] = {}
    for name in QT_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # a QGIS built without 3D
            continue
        for attr in dir(module):
            if attr.startswith("Q"):
                names.setdefault(attr, getattr(module, attr))
    return names


def unscoped_enum_uses(source: str, namespace: dict[str, object]) -> list[str]:
    """``Class.Member`` expressions in *source* where Member is an enum value reached without its enum."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner = namespace.get(node.value.id)
            if isinstance(owner, type) and _is_enum_member(getattr(owner, node.attr, None)):
                found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_unscoped_enums_in_plugin(qgis_app):
    namespace = _qt_namespace()
    assert namespace["QgsProcessing"] is not None
    bad = {str(p.relative_to(ROOT)): uses for p in _plugin_files()
           if (uses := unscoped_enum_uses(p.read_text(encoding="utf-8"), namespace))}
    assert not bad, f"unscoped enums (Qt6 builds reject them): {bad}"


def test_checker_finds_unscoped_enums(qgis_app):
    """The scan itself works: it flags unscoped spellings and accepts scoped ones."""
    namespace = _qt_namespace()
    assert unscoped_enum_uses("x = QgsProcessing.TypeVectorPoint\ny = Qt.AlignLeft", namespace) == [
        "line 1: QgsProcessing.TypeVectorPoint", "line 2: Qt.AlignLeft"]
    assert unscoped_enum_uses("x = Qt.AlignmentFlag.AlignLeft\ny = QgsProcessing.SourceType", namespace) == []


def test_no_qt5_only_or_deprecated_idioms_in_plugin():
    bad = []
    for path in _plugin_files():
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for pattern, why in FORBIDDEN.items():
                if re.search(pattern, line):
                    bad.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}  <- {why}")
    assert not bad, "\n".join(bad)


def test_metadata_declares_qgis_4():
    meta = dict(line.split("=", 1) for line in (PLUGIN / "metadata.txt").read_text().splitlines()
                if "=" in line and not line.startswith("#"))
    assert meta["qgisMinimumVersion"].strip() == "3.22"
    assert meta["qgisMaximumVersion"].strip() == "4.99"


def test_compat_values_match_this_qgis(qgis_app):
    from qgis.core import QgsProcessingParameterNumber, QgsWkbTypes

    from geoml_qgis import compat

    assert compat.QGIS_VERSION >= 32200
    # the constants work where QGIS expects them
    param = QgsProcessingParameterNumber("N", "n", compat.NUMBER_DOUBLE, 1.5)
    assert param.dataType() == compat.NUMBER_DOUBLE
    assert param.flags() & compat.PARAMETER_ADVANCED != compat.PARAMETER_ADVANCED
    assert compat.set_advanced(param) is param and param.flags() & compat.PARAMETER_ADVANCED
    assert QgsWkbTypes.hasZ(compat.WKB_POINT_Z) and not QgsWkbTypes.hasZ(compat.WKB_POINT)
    assert QgsWkbTypes.geometryType(compat.WKB_POINT_Z) == compat.GEOMETRY_POINT
    assert compat.new_field("grade", "float").isNumeric()
    assert not compat.new_field("hole", "str").isNumeric()
    assert compat.is_null(None) and not compat.is_null(0.0)


def test_scoped_lookup_prefers_the_new_name():
    from geoml_qgis.compat import _scoped

    class New:
        class Kind:
            A = "new"

    class Old:
        class Kind:
            A = "old"

    assert _scoped(New, "Kind.A", Old, "Kind.A") == "new"
    assert _scoped(object, "Kind.A", Old, "Kind.A") == "old"
    with pytest.raises(AttributeError):
        _scoped(object, "Kind.A", object, "Kind.B")


def test_point_material_uses_the_api_this_qgis_has():
    from geoml_qgis.compat import set_point_material

    class Old:  # QGIS 3.22
        def setMaterial(self, m):  # noqa: N802
            self.got = ("setMaterial", m)

    class New:  # QGIS 3.26+
        def setMaterialSettings(self, m):  # noqa: N802
            self.got = ("setMaterialSettings", m)

    old, new = Old(), New()
    set_point_material(old, 1)
    set_point_material(new, 2)
    assert old.got == ("setMaterial", 1) and new.got == ("setMaterialSettings", 2)
