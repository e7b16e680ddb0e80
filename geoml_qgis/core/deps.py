"""Optional dependencies: import them lazily with a clear message when missing."""
from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError

#: import name -> pip requirement (torch: the CPU build, see the README)
PIP_REQUIREMENTS = {
    "torch": "torch",
    "pykrige": "pykrige",
    "spectral": "spectral",
    "boto3": "boto3",
    "openpyxl": "openpyxl",
}


def require(module: str, purpose: str = "") -> ModuleType:
    """Import *module* or raise :class:`MissingDependencyError` naming the pip command."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            module, PIP_REQUIREMENTS.get(module, module), purpose
        ) from exc


def available(module: str) -> bool:
    """Whether *module* can be imported (without importing heavy packages twice)."""
    return importlib.util.find_spec(module) is not None
