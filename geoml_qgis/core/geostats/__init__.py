"""Geostatistics: experimental variograms, variogram models (single and nested) and fitting, fast ordinary kriging
(2D/3D, moving or global neighbourhood), cross-validation and kriged feature rasters.

No qgis import; numpy and scipy only.
"""
from .crossval import CrossValidation, blocked_kfold, leave_one_out
from .kriging import KrigingResult, OrdinaryKriging
from .models import MODELS, VariogramModel
from .nested import NestedModel, Structure, fit_nested, model_from_json
from .samples import Samples, prepare_samples
from .variogram import ExperimentalVariogram, experimental_variogram, fit_variogram

__all__ = [
    "CrossValidation", "blocked_kfold", "leave_one_out", "KrigingResult", "OrdinaryKriging", "MODELS",
    "VariogramModel", "Samples", "prepare_samples", "ExperimentalVariogram", "experimental_variogram",
    "fit_variogram", "NestedModel", "Structure", "fit_nested", "model_from_json",
]
