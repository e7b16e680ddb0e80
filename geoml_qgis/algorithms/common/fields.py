"""Field parameters that find their field by name: ``hole``, ``from``, ``to``, ``x``, ``y``, ``z``...

Every field parameter of a GeoML algorithm is made by :func:`field_parameter`. A parameter with a
*role* (a key of :data:`ROLES`) gets the role's canonical name as its default, which the QGIS
dialog selects when the chosen layer has that field (in any letter case; QGIS 3.22 to 3.44
leave the box empty otherwise, never on the first field). At run time, :func:`resolve_fields`
fills every role parameter left empty with the layer's field that matches the role's usual
names (``HoleID``, ``BHID``, ``Easting``, ``RL``...), and clears it when none matches, so a
dialog, a ``qgis_process`` call or a script without the parameter all read the same field.
"""
from __future__ import annotations

import re

from qgis.core import QgsProcessingParameterField

from ...compat import FIELD_ANY, PARAMETER_OPTIONAL
from ...core.errors import GeoMLError

ROLE_KEY = "geoml_field_role"
# role -> usual field names, the canonical one (the parameter's default) first; compared without
# letter case, spaces, dots or underscores
ROLES: dict[str, tuple[str, ...]] = {
    "hole": ("hole", "hole_id", "holeid", "bhid", "dhid", "hole_name", "borehole", "drillhole", "hole_number"),
    "from": ("from", "from_m", "depth_from", "mfrom", "sample_from"),
    "to": ("to", "to_m", "depth_to", "mto", "sample_to"),
    "x": ("x", "east", "easting", "x_coord", "xcoord", "utm_e"),
    "y": ("y", "north", "northing", "y_coord", "ycoord", "utm_n"),
    "z": ("z", "elev", "elevation", "rl", "z_coord", "zcoord", "altitude"),
    "depth": ("depth", "depth_m", "md", "at", "survey_depth"),
    "azimuth": ("azimuth", "azi", "azim", "az", "bearing"),
    "dip": ("dip", "inclination", "incl"),
    "length": ("length", "total_length", "max_depth", "total_depth", "eoh", "td"),
    "label": ("label", "deposit", "deposits", "dep", "target", "class"),
    "class": ("class", "mineral", "label", "name"),
    "cluster": ("cluster", "label", "unit", "domain"),
    "score": ("score", "probability", "prospectivity", "predicted"),
    "value": ("value", "grade", "assay", "concentration", "result"),  # else the box stays empty, never on fid
}


def _key(name: str) -> str:
    return re.sub(r"[\s._-]+", "", name).lower()


def match_field(role: str, names) -> str | None:
    """The field among *names* that plays *role*: the first of the role's usual names present,
    exact letter case preferred. None when no field matches."""
    names = list(names)
    by_key: dict[str, str] = {}
    for n in names:
        by_key.setdefault(_key(n), n)
    for wanted in ROLES[role]:
        if wanted in names:
            return wanted
        if _key(wanted) in by_key:
            return by_key[_key(wanted)]
    return None


def field_parameter(name: str, label: str, parent: str, role: str | None = None, *, kind=FIELD_ANY,
                    optional: bool = False, multiple: bool = False, default=None,
                    help: str = "") -> QgsProcessingParameterField:
    """A field parameter of layer parameter *parent*; with a *role* it defaults to the role's field
    (see the module docstring). *help* is the per-parameter tooltip."""
    if role is not None and default is None:
        default = ROLES[role][0]
    param = QgsProcessingParameterField(name, label, default, parentLayerParameterName=parent, type=kind,
                                        allowMultiple=multiple, optional=optional)
    param.setMetadata({**param.metadata(), ROLE_KEY: role or ""})  # "" marks a field without a usual name
    if help:
        param.setHelp(help)
    return param


def _parent_fields(alg, param, parameters: dict, context) -> list[str] | None:
    parent = param.parentLayerParameterName()
    if not parent or parameters.get(parent) in (None, ""):
        return None
    try:
        source = alg.parameterAsSource(parameters, parent, context)
    except Exception:  # noqa: BLE001 - an unreadable layer is reported by QGIS's own check, not here
        return None
    return None if source is None else list(source.fields().names())


def resolve_fields(alg, parameters: dict, context, feedback) -> dict:
    """*parameters* with every role field parameter left empty (or on a default the layer lacks)
    set to the parent layer's matching field, or to '' (none) when nothing matches; a required one
    without a match is an error naming the names looked for."""
    resolved = dict(parameters)
    for param in alg.parameterDefinitions():
        role = param.metadata().get(ROLE_KEY) if isinstance(param, QgsProcessingParameterField) else None
        if not role:
            continue
        value = resolved.get(param.name())
        if value not in (None, "") and value != param.defaultValue():
            continue
        names = _parent_fields(alg, param, resolved, context)
        if names is None:
            continue
        if value in names:
            continue
        found = match_field(role, names)
        if found is not None and found != param.defaultValue() and feedback is not None:
            feedback.pushInfo(f"{param.description()}: {found} (found by its name)")
        if found is None and not param.flags() & PARAMETER_OPTIONAL:
            raise GeoMLError(f"Choose the {param.description()}: the layer has no field named "
                             f"{', '.join(ROLES[role][:5])}...")
        resolved[param.name()] = found or ""
    return resolved

