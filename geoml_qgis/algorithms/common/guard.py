"""One guarded run of a GeoML algorithm: checks before work, one output transaction, errors a geologist reads.

:func:`guarded_run` is what :class:`~.base.GeoMLAlgorithm` wraps around every
``execute``:

* before any work - output paths equal to an input or to each other, outputs in
  folders that are files or read-only, and input layers without a CRS are refused;
* every file the run writes (rasters, styles, reports, workbooks, models, and the
  layers QGIS writes through feature sinks) is staged beside its target and moved
  into place only when the whole run has succeeded
  (:class:`~geoml_qgis.core.io.atomic.OutputTransaction`);
* cancellation is a failure ("Cancelled ...") so ``qgis_process`` exits non-zero;
* core warnings reach the Processing log; any other exception becomes a
  :class:`QgsProcessingException` naming the file and the fix - never a traceback.
"""
from __future__ import annotations

import contextvars
import logging
import os
import shutil
import threading
import traceback
from pathlib import Path
from typing import Any, Callable

from qgis.core import (
    QgsExpressionContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProperty,
    QgsRasterLayer,
    QgsVectorLayer,
)

from ...compat import has_geometry
from ...core.errors import Cancelled, GeoMLError
from ...core.io.atomic import OutputTransaction, part_path
from ...core.io.crs import NO_CRS_HELP, UNDEFINED_NAMES
from ...core.io.guards import check_output_paths, explain_error, public_name
from ...core.progress import LOGGER

_SPECIAL = ("TEMPORARY_OUTPUT", "memory:", "ogr:", "postgres:", "spatialite:", "mssql:", "oracle:", "hana:")
LAYER_TYPES = ("raster", "vector", "source", "layer")


class _FeedbackLog(logging.Handler):
    """Core warnings as Processing warnings (pushed from the run's own thread only)."""

    def __init__(self, feedback: QgsProcessingFeedback):
        super().__init__(logging.WARNING)
        self.feedback, self.thread, self.later = feedback, threading.get_ident(), []

    def emit(self, record: logging.LogRecord) -> None:
        msg = public_name(record.getMessage())
        if threading.get_ident() == self.thread:
            self.feedback.pushWarning(msg)
        else:
            self.later.append(msg)

    def flush_later(self) -> None:
        for msg in self.later:
            self.feedback.pushWarning(msg)
        self.later = []


def destination_value(value: Any) -> str:
    """The file path a destination parameter's value names, or '' (temporary, memory, database)."""
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink
    if isinstance(value, QgsProperty):
        value = value.valueAsString(QgsExpressionContext(), "")
        value = value[0] if isinstance(value, tuple) else value
    text = str(value) if value not in (None, "") else ""
    return "" if not text or text.startswith(_SPECIAL) else text


def output_paths(alg, parameters: dict) -> dict[str, str]:
    """Description -> file path of every file destination (folders and temporary outputs left out)."""
    out = {}
    for d in alg.destinationParameterDefinitions():
        if d.type() == "folderDestination":
            continue
        path = destination_value(parameters.get(d.name()))
        if path:
            out[d.description()] = path
    return out


def input_layers(alg, parameters: dict, context) -> tuple[dict[str, str], list]:
    """Description -> source of every input layer or file, and the input layers themselves."""
    sources, layers = {}, []
    for d in alg.parameterDefinitions():
        if d.isDestination() or d.name() not in parameters or parameters[d.name()] in (None, ""):
            continue
        kind = d.type()
        try:
            if kind in LAYER_TYPES:
                lyr = alg.parameterAsLayer(parameters, d.name(), context)
                found = [lyr] if lyr is not None else []
            elif kind == "multilayer":
                found = [lyr for lyr in (alg.parameterAsLayerList(parameters, d.name(), context) or []) if lyr is not None]
            elif kind == "file":
                path = alg.parameterAsFile(parameters, d.name(), context)
                if path:
                    sources[d.description()] = path
                continue
            else:
                continue
        except Exception:  # noqa: BLE001 - the algorithm reports unreadable inputs itself
            continue
        for i, lyr in enumerate(found):
            sources[d.description() + (f" #{i + 1}" if len(found) > 1 else "")] = lyr.source()
            layers.append((d.description(), lyr))
    return sources, layers


_QT_CODECS = {"cp1252": "windows-1252", "latin-1": "ISO-8859-1"}


def reencode_text_tables(alg, parameters: dict, context) -> dict:
    """CSV inputs that are not UTF-8 opened in their own encoding (Windows-1252, else Latin-1), with a note.

    QGIS reads a CSV as UTF-8 and turns every other accented letter into U+FFFD, so two
    holes that differ by an accent collide; here the table is opened with the detected
    encoding and handed to the algorithm as that layer.
    """
    from ...core.io.vector import text_encoding

    params = dict(parameters)
    for d in alg.parameterDefinitions():
        value = params.get(d.name())
        if d.isDestination() or d.type() not in LAYER_TYPES or not isinstance(value, str):
            continue
        path = value.split("|")[0]
        if not path.lower().endswith((".csv", ".txt")) or not os.path.isfile(path):
            continue
        encoding, note = text_encoding(path)
        if encoding not in _QT_CODECS:
            continue
        layer = QgsVectorLayer(value, Path(path).stem, "ogr")
        if not layer.isValid():
            continue
        layer.setProviderEncoding(_QT_CODECS[encoding])
        context.temporaryLayerStore().addMapLayer(layer)
        params[d.name()] = layer.id()
        LOGGER.warning(note)
    return params


def _georeferenced(layer: QgsRasterLayer) -> bool:
    from osgeo import gdal

    try:
        ds = gdal.Open(layer.source().split("|")[0])
        return ds is not None and (ds.GetGeoTransform(can_return_null=True) is not None or ds.GetGCPCount() > 0)
    except RuntimeError:
        return True


def check_layer_crs(layers: list) -> None:
    """Refuse an input layer with geometry but no CRS, naming it and saying how to assign one."""
    for what, lyr in layers:
        if isinstance(lyr, QgsVectorLayer):
            if not has_geometry(lyr):
                continue
        elif isinstance(lyr, QgsRasterLayer):
            if lyr.providerType() == "gdal" and not _georeferenced(lyr):
                continue  # an image in pixel coordinates (a lab cube): no map, no CRS needed
        else:
            continue
        crs = lyr.crs()
        undefined = not crs.isValid() or any(n in crs.description().lower() for n in UNDEFINED_NAMES)
        if undefined:
            src = lyr.source().split("|")[0]
            hint = " (a shapefile without its .prj file?)" if src.lower().endswith(".shp") else ""
            raise GeoMLError(
                f"The input '{what}' ({Path(src).name}) has no coordinate reference system (CRS){hint}. {NO_CRS_HELP}"
            )


_REDIRECT: contextvars.ContextVar["SinkRedirect | None"] = contextvars.ContextVar("geoml_sink_redirect", default=None)


def attach_later(dest_id: str, processor) -> bool:
    """Keep *processor* for the output *dest_id* if it is a staged sink of this run (attached under its final name).

    QGIS deletes the post-processor of a layer-to-load entry that is renamed, so a staged
    sink's styler is attached only once its entry carries the final path.
    """
    redirect = _REDIRECT.get()
    if redirect is None or dest_id.split("|")[0] not in redirect.final:
        return False
    redirect.processors[dest_id] = processor
    return True


class SinkRedirect:
    """Feature sinks written by QGIS go to a hidden staging folder beside their target.

    The file keeps its name there (so a GeoPackage's layer is named as the user chose);
    at the end of a successful run its files are staged in the run's transaction.
    """

    def __init__(self, alg, parameters: dict):
        self.params = dict(parameters)
        self.final: dict[str, str] = {}  # temporary path -> final path
        self.processors: dict[str, Any] = {}  # destination id -> post-processor to attach at the end
        for d in alg.destinationParameterDefinitions():
            if d.type() != "sink":
                continue
            value = self.params.get(d.name())
            path = destination_value(value)
            if not path:
                continue
            folder = Path(part_path(path, suffix=""))
            folder.mkdir(parents=True)
            tmp = str(folder / Path(path).name)
            if isinstance(value, QgsProcessingOutputLayerDefinition):
                redirected = QgsProcessingOutputLayerDefinition(QgsProperty.fromValue(tmp), value.destinationProject)
                redirected.destinationName = value.destinationName
                redirected.createOptions = value.createOptions
                self.params[d.name()] = redirected
            else:
                self.params[d.name()] = tmp
            self.final[tmp] = path

    def stage(self, tx: OutputTransaction) -> None:
        for tmp, path in self.final.items():
            folder, target = Path(tmp).parent, Path(path)
            stem = Path(tmp).stem
            for f in folder.iterdir():  # the file and its side-cars (.shx, .dbf, .prj, ...)
                if f.stem == stem:
                    tx.stage(str(f), target.with_name(target.stem + f.suffix) if f.suffix != target.suffix else target)

    def discard(self) -> None:
        """Remove the staging folders (empty after a commit)."""
        for tmp in self.final:
            shutil.rmtree(Path(tmp).parent, ignore_errors=True)

    def rename_results(self, result: dict, context) -> dict:
        """Results and layers-to-load keyed by the temporary paths, renamed to the final ones."""
        if not self.final:
            return result

        def fix(v):
            if isinstance(v, str):
                for tmp, path in self.final.items():
                    if v == tmp or v.startswith(tmp + "|"):
                        return path + v[len(tmp):]
            return v

        loads = context.layersToLoadOnCompletion()
        if any(k != fix(k) for k in loads):
            renamed = {}
            for key, details in loads.items():
                if key in self.processors and details.postProcessor() is None:
                    details.setPostProcessor(self.processors[key])
                renamed[fix(key)] = details
            context.setLayersToLoadOnCompletion(renamed)
        return {k: fix(v) for k, v in result.items()}


def _why_unreadable(path: str) -> str:
    from osgeo import gdal

    if not os.path.exists(path):
        return "the file does not exist"
    if os.path.isdir(path):
        return "it is a folder"
    gdal.UseExceptions()  # the core's setting (core.io) as well
    try:
        gdal.OpenEx(path)
    except RuntimeError as exc:
        return public_name(str(exc)).strip() or "GDAL cannot read it"
    return "QGIS cannot load it as this kind of layer"


def explain_invalid(alg, parameters: dict, context, message: str) -> str:
    """QGIS's 'Incorrect parameter value for X' completed with the file and why it cannot be read."""
    parts = [message]
    for d in alg.parameterDefinitions():
        if f"for {d.name()}" not in message and f"for {d.description()}" not in message:
            continue
        values = parameters.get(d.name())
        for v in values if isinstance(values, (list, tuple)) else [values]:
            if isinstance(v, str) and ("/" in v or "\\" in v) and not v.startswith(_SPECIAL):
                path = v.split("|")[0]
                ext = d.extension() if d.type() == "file" and hasattr(d, "extension") else ""
                if ext and not path.lower().endswith("." + ext.lower()):
                    parts.append(f"'{Path(path).name}' ({d.description()}) must be a .{ext} file.")
                    continue
                parts.append(f"'{Path(path).name}' ({d.description()}) cannot be opened: {_why_unreadable(path)}. "
                             "Check the path, and that the file is complete and in a format QGIS reads.")
    return "\n".join(parts)


def failure_message(exc: BaseException, feedback: QgsProcessingFeedback | None = None) -> str:
    """The one message a user sees for *exc*: GeoML's own, an explained system error, or a bug report request."""
    msg = explain_error(exc)
    if msg is not None:
        return public_name(msg)
    if feedback is not None:
        feedback.pushDebugInfo(public_name("".join(traceback.format_exception(type(exc), exc, exc.__traceback__))))
    return public_name(
        f"GeoML stopped on an unexpected error ({type(exc).__name__}: {exc}). No output was written and existing files "
        "are unchanged. Please report it with the log (Processing > History, or the debug output of qgis_process)."
    )


def guarded_run(alg, parameters: dict, context, feedback: QgsProcessingFeedback,
                execute: Callable[[dict, Any, QgsProcessingFeedback], dict]) -> dict:
    """Run *execute* with the checks, the transaction and the error translation described above."""
    feedback = feedback or QgsProcessingFeedback()
    log = _FeedbackLog(feedback)
    LOGGER.addHandler(log)
    redirect = None
    try:
        try:
            parameters = reencode_text_tables(alg, parameters, context)
            sources, layers = input_layers(alg, parameters, context)
            check_output_paths(sources, output_paths(alg, parameters))
            check_layer_crs(layers)
            redirect = SinkRedirect(alg, parameters)
            token = _REDIRECT.set(redirect)
            with OutputTransaction() as tx:
                result = execute(redirect.params, context, feedback)
                if feedback.isCanceled():
                    raise Cancelled("Cancelled by the user")
                redirect.stage(tx)
            return redirect.rename_results(result or {}, context)
        finally:
            if redirect is not None:
                _REDIRECT.reset(token)
                redirect.discard()
            log.flush_later()
    except Cancelled as exc:
        raise QgsProcessingException(
            "Cancelled: the run was stopped before it finished; no output was written and existing files are unchanged."
        ) from exc
    except QgsProcessingException as exc:
        raise QgsProcessingException(public_name(str(exc))) from exc
    except Exception as exc:  # noqa: BLE001 - every error reaches the user as a message, never a traceback
        raise QgsProcessingException(failure_message(exc, feedback)) from exc
    finally:
        LOGGER.removeHandler(log)


__all__ = ["guarded_run", "output_paths", "input_layers", "destination_value", "failure_message"]
