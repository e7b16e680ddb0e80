"""Inputs that can be given in one of several ways (either/or), checked once before any work.

An algorithm lists them in ``ONE_OF``; :class:`~.base.GeoMLAlgorithm` calls :func:`check_one_of`
from ``checkParameterValues`` (the dialog, ``processing.run`` and ``qgis_process`` refuse the run
there) and again before ``execute`` (graphical-modeler children skip the first check). The labels
of the parameters involved say which others they go with ("X field (or collars)"); the message
names every accepted combination.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...compat import is_point_source
from ...core.errors import GeoMLError

POINTS = ":points"  # suffix of a layer parameter id: 'that layer has point geometry'


@dataclass(frozen=True)
class OneOf:
    """*what* is given by one of *ways*: each a tuple of parameter ids that must all be set
    (``"INPUT:points"``: the INPUT layer has point geometry)."""

    what: str
    ways: tuple[tuple[str, ...], ...]

    def names(self) -> set[str]:
        return {p.split(":")[0] for way in self.ways for p in way}


def _given(alg, parameters: dict, item: str, context) -> bool:
    name, _, kind = item.partition(":")
    param = alg.parameterDefinition(name)
    value = parameters.get(name, param.defaultValue() if param is not None else None)
    if value is None or value == "" or value == []:
        return False
    if kind:
        try:
            source = alg.parameterAsSource(parameters, name, context)
        except Exception:  # noqa: BLE001 - an unreadable layer is reported by QGIS's own check
            return True
        return source is not None and is_point_source(source)
    return True


def _describe(alg, item: str) -> str:
    name, _, kind = item.partition(":")
    label = alg.parameterDefinition(name).description().split(" (")[0]
    return f"the points of the {label.lower()}" if kind else label


def combinations_text(alg, rule: OneOf) -> str:
    """'X field + Y field; or Collar table + From field + To field'."""
    return "; or ".join(" + ".join(_describe(alg, item) for item in way) for way in rule.ways)


def check_one_of(alg, parameters: dict, context) -> None:
    """Raise a :class:`GeoMLError` naming the accepted combinations when no way of a rule is complete."""
    for rule in getattr(alg, "ONE_OF", ()):
        if not any(all(_given(alg, parameters, item, context) for item in way) for way in rule.ways):
            raise GeoMLError(f"Give {rule.what} in one of these ways: {combinations_text(alg, rule)}.")
