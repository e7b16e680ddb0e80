"""Exceptions raised by the core library.

Every error a user can cause derives from :class:`GeoMLError`; its message is
written for a geologist, not a programmer, and the Processing wrappers show it
as-is.
"""
from __future__ import annotations

from typing import Mapping


class GeoMLError(ValueError):
    """Bad input or a condition the user can fix; the message says how."""


class ArgumentError(GeoMLError):
    """A bad or missing value of a core function's own arguments.

    The message is a template naming them as ``{argument}``; as raised it reads with the argument
    names, and a caller that knows them under other names (a Processing wrapper's parameter ids)
    rewrites it with :meth:`renamed`.
    """

    def __init__(self, template: str):
        self.template = template
        super().__init__(self.renamed({}))

    def renamed(self, names: Mapping[str, str]) -> str:
        """The message with each ``{argument}`` replaced by ``names[argument]`` (or its own name)."""
        return self.template.format_map(_Names(names))


class _Names(dict):
    def __missing__(self, key: str) -> str:
        return key


class MissingDependencyError(GeoMLError, ImportError):
    """An optional Python package needed by one algorithm is not installed."""

    def __init__(self, package: str, pip_name: str | None = None, purpose: str = ""):
        self.package = package
        self.pip_name = pip_name or package
        why = f" (needed for {purpose})" if purpose else ""
        super().__init__(
            f"The Python package '{package}' is not installed{why}. Install it from the menu "
            f"Plugins › GeoML › Install Python packages…, or with pip into the Python that QGIS "
            f"uses, e.g.: python3 -m pip install '{self.pip_name}'"
        )


class Cancelled(Exception):
    """The user cancelled the run; partial outputs have been removed."""
