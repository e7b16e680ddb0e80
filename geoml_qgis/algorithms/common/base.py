"""Base class of GeoML algorithms: naming, help, dependency checks, errors, progress.

A subclass sets ``NAME``, ``DISPLAY_NAME``, ``GROUP``, ``HELP`` (and ``REQUIRES``
for optional packages, ``ONE_OF`` for inputs given in one of several ways), declares
parameters in ``initAlgorithm`` and implements ``execute(parameters, context, feedback)``.
Before any work, field parameters left empty take the layer's field by its usual name
(:mod:`.fields`) and every ``ONE_OF`` rule is checked (:mod:`.choices`). Every run is guarded
(:func:`~.guard.guarded_run`): output paths checked before work, all outputs
committed together or not at all, core errors (:class:`GeoMLError`) and system
errors turned into :class:`QgsProcessingException` naming the file and the fix,
and a cancelled run reported as a failure that wrote nothing.
"""
from __future__ import annotations

from typing import Any, Callable

from qgis.core import QgsProcessingAlgorithm, QgsProcessingFeedback
from qgis.PyQt.QtCore import QCoreApplication

from ...core.blas import blas_hint
from ...core.deps import available, require
from ...core.errors import GeoMLError
from .choices import OneOf, check_one_of
from .fields import resolve_fields
from .guard import explain_invalid, guarded_run
from .help import parameter_help
from .parameters import enum_indices

README_URL = "https://github.com/geoml-qgis/geoml-qgis#"  # metadata.txt's homepage
# README section (anchor) of each capability sub-package of algorithms/
README_SECTIONS = {
    "geostats": "geostatistics",
    "hybrid": "hybrid-geostatistical-deep-learning",
    "borehole": "borehole-geochemistry",
    "prospectivity": "mineral-prospectivity",
    "hyperspectral": "hyperspectral-mineral-mapping",
    "scaleout": "scale-out-on-aws-batch",
    "rastertools": "algorithms",
}
GROUPS = {
    "geostatistics": "Geostatistics",
    "hybrid": "Hybrid prediction",
    "borehole": "Borehole geochemistry",
    "prospectivity": "Mineral prospectivity",
    "hyperspectral": "Hyperspectral mapping",
    "rastertools": "Raster tools",
}


_blas_noted = False  # the reference-BLAS hint is given once per QGIS session


def note_slow_blas(feedback: QgsProcessingFeedback | None) -> None:
    """Tell the user, once per process, that numpy runs on the slow reference BLAS (Linux)."""
    global _blas_noted
    if _blas_noted or feedback is None:
        return
    _blas_noted = True
    hint = blas_hint()
    if hint:
        feedback.pushInfo(hint)


def progress_callback(feedback: QgsProcessingFeedback | None) -> Callable[[float], bool] | None:
    """A core progress callback that drives *feedback* and reports its cancellation.

    Core code calls it from the algorithm's own thread only.
    """
    if feedback is None:
        return None

    def _cb(fraction: float) -> bool:
        feedback.setProgress(100.0 * fraction)
        return not feedback.isCanceled()

    return _cb


class GeoMLAlgorithm(QgsProcessingAlgorithm):
    """Common behaviour of every ``geoml:`` algorithm."""

    NAME = ""
    DISPLAY_NAME = ""
    GROUP = "rastertools"
    HELP = ""
    REQUIRES: tuple[str, ...] = ()
    ONE_OF: tuple[OneOf, ...] = ()  # inputs given in one of several ways, checked before any work
    PARAMETER_HELP: dict[str, str] = {}  # tooltip of a parameter, by id, where the shared help does not fit

    def name(self) -> str:
        return self.NAME

    def displayName(self) -> str:  # noqa: N802 - QGIS API
        return self.tr(self.DISPLAY_NAME)

    def group(self) -> str:
        return self.tr(GROUPS[self.GROUP])

    def groupId(self) -> str:  # noqa: N802 - QGIS API
        return self.GROUP

    def shortHelpString(self) -> str:  # noqa: N802 - QGIS API
        missing = [m for m in self.REQUIRES if not available(m)]
        note = (
            f"<p><b>Needs the Python package(s) {', '.join(missing)}</b>, not installed in this QGIS: "
            "install from <i>Plugins › GeoML › Install Python packages…</i></p>"
            if missing else ""
        )
        return self.tr(self.HELP) + note

    def helpUrl(self) -> str:  # noqa: N802 - QGIS API
        """The README section of this algorithm's capability (its sub-package of ``algorithms/``)."""
        package = type(self).__module__.split(".")[-2]
        return README_URL + README_SECTIONS.get(package, "algorithms")

    def model_output(self, parameters, context, feedback, name: str = "OUTPUT_MODEL") -> str:
        """The path of the model file output *name*; warns when it is a temporary file, which QGIS
        deletes when it closes (a trained model or fitted variogram is worth keeping)."""
        from pathlib import Path

        from qgis.core import QgsProcessingUtils

        path = self.parameterAsFileOutput(parameters, name, context)
        temp = Path(QgsProcessingUtils.tempFolder()).resolve()
        if path and temp in Path(path).resolve().parents:
            feedback.pushWarning(f"The model ({name}) goes to a temporary file that is deleted when QGIS closes: "
                                 f"{path}. Choose a file for it to keep the model.")
        return path

    def addParameter(self, parameter, createOutput=True):  # noqa: N802 - QGIS API
        """QGIS's addParameter, giving the parameter its help (tooltip) when it has none (:mod:`.help`)."""
        if not parameter.help():
            parameter.setHelp(self.tr(parameter_help(self, parameter)))
        return super().addParameter(parameter, createOutput)

    def tr(self, text: str) -> str:
        return QCoreApplication.translate("GeoML", text)

    def createInstance(self):  # noqa: N802 - QGIS API
        return type(self)()

    def checkParameterValues(self, parameters, context):  # noqa: N802 - QGIS API
        try:
            parameters = self.prepare_parameters(parameters, context, None)
        except GeoMLError as exc:
            return False, str(exc)
        ok, message = super().checkParameterValues(parameters, context)
        return (ok, message) if ok else (ok, explain_invalid(self, parameters, context, message))

    def prepare_parameters(self, parameters: dict, context, feedback) -> dict:
        """*parameters* with enum names turned into indices and empty field parameters matched by name;
        raises :class:`GeoMLError` when no accepted combination of either/or inputs is given."""
        parameters = resolve_fields(self, enum_indices(self, parameters), context, feedback)
        check_one_of(self, parameters, context)
        return parameters

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 - QGIS API
        def run(params, ctx, fb):
            for module in self.REQUIRES:
                require(module, self.DISPLAY_NAME)
            note_slow_blas(fb)
            return self.execute(self.prepare_parameters(params, ctx, fb), ctx, fb)

        return guarded_run(self, parameters, context, feedback, run)

    def execute(self, parameters: dict, context, feedback) -> dict[str, Any]:
        """Do the work; return the outputs dictionary."""
        raise NotImplementedError
