"""Optional cross-validation inside the estimating algorithms (trend and indicator kriging, cokriging): parameters and outputs."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
)

from ...compat import NUMBER_DOUBLE, NUMBER_INTEGER
from .params import optional_number

CV_CHOICES = ["none", "leave-one-out", "spatially blocked k-fold"]
CV_HELP = (
    "<b>Cross-validation</b> (CROSS_VALIDATION): none, leave-one-out, or spatially blocked k-fold with "
    "<b>Folds</b> (FOLDS), <b>Block size</b> (BLOCK_SIZE, default: the variogram range) and <b>Seed</b> (SEED), "
    "as in <i>Kriging cross-validation</i>; the per-sample table goes to OUTPUT_CSV and ME, MAE, RMSE, MSDR "
    "are returned as outputs and logged.<br>"
)
STATS = ("ME", "MAE", "RMSE", "MSDR")


def add_cv_params(alg) -> None:
    """CROSS_VALIDATION (none / leave-one-out / blocked k-fold with FOLDS, BLOCK_SIZE, SEED), OUTPUT_CSV and
    the ME, MAE, RMSE, MSDR outputs."""
    alg.addParameter(QgsProcessingParameterEnum("CROSS_VALIDATION", alg.tr("Cross-validation"), CV_CHOICES,
                                                defaultValue=0))
    _add_blocked_params(alg)
    alg.addParameter(QgsProcessingParameterFileDestination(
        "OUTPUT_CSV", alg.tr("Cross-validation table"), "CSV files (*.csv)", optional=True, createByDefault=False))
    for name in STATS:
        alg.addOutput(QgsProcessingOutputNumber(name, name))


def _add_blocked_params(alg) -> None:
    alg.addParameter(QgsProcessingParameterNumber(
        "FOLDS", alg.tr("Folds (blocked k-fold)"), NUMBER_INTEGER, defaultValue=5,
        minValue=2))
    alg.addParameter(QgsProcessingParameterNumber(
        "BLOCK_SIZE", alg.tr("Block size (blocked k-fold)"), NUMBER_DOUBLE, optional=True,
        minValue=0.0))
    alg.addParameter(QgsProcessingParameterNumber(
        "SEED", alg.tr("Random seed"), NUMBER_INTEGER, defaultValue=0))


def read_cv(alg, parameters, context) -> dict | None:
    """None when no cross-validation is asked; else ``method``, ``folds``, ``block_size``, ``seed``."""
    method = alg.parameterAsEnum(parameters, "CROSS_VALIDATION", context)
    if method == 0:
        return None
    if method == 1:
        return {"method": CV_CHOICES[1]}
    return {"method": CV_CHOICES[method], "folds": alg.parameterAsInt(parameters, "FOLDS", context),
            "block_size": optional_number(alg, parameters, "BLOCK_SIZE", context) or None,
            "seed": alg.parameterAsInt(parameters, "SEED", context)}


def cv_outputs(alg, parameters, context, feedback, cv) -> dict:
    """Log the summary, write OUTPUT_CSV when asked; the algorithm's result entries."""
    from ...core.io.atomic import write_text_atomic

    s = cv.summary
    extra = "".join(f", {k} {v:.4g}" for k, v in s.items() if k not in (*STATS, "n", "n_not_estimated")
                    and isinstance(v, float))
    feedback.pushInfo(f"Cross-validation ({cv.method}): n {s['n']}, ME {s['ME']:.4g}, MAE {s['MAE']:.4g}, "
                      f"RMSE {s['RMSE']:.4g}, MSDR {s['MSDR']:.4g}{extra}")
    results = {k: s[k] for k in STATS}
    path = alg.parameterAsFileOutput(parameters, "OUTPUT_CSV", context)
    if path:
        write_text_atomic(path, cv.table.to_csv(index=False))
        results["OUTPUT_CSV"] = path
    return results
