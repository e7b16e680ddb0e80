"""One interface over every prospectivity method: fit / predict_proba / save / load / predict_stack."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from ..errors import GeoMLError
from ..io import BlockWriter, RasterStack, RasterStyle, provenance
from ..io.blocks import process_blocks
from ..modelio import load_model, save_model
from ..progress import ProgressCallback, report
from .baselines import BASELINES, BaselineClassifier

NETWORKS = ("transfer", "scratch")
ENSEMBLE = "vae_ensemble"
METHODS = NETWORKS + BASELINES + (ENSEMBLE,)
UNCERTAINTY = ("aleatoric", "epistemic", "total")
KIND = "prospectivity"


def check_labels(y: np.ndarray, n_folds: int = 0) -> None:
    """Refuse one-class data, and fewer deposits (or non-deposits) than CV folds."""
    n1, n0 = int((y == 1).sum()), int((y == 0).sum())
    if n1 == 0 or n0 == 0:
        raise GeoMLError(f"The training labels hold only one class ({n1} deposits, {n0} non-deposits); "
                         "both deposits (1) and non-deposits (0) are needed.")
    if n_folds and min(n1, n0) < n_folds:
        raise GeoMLError(f"Only {min(n1, n0)} {'deposits' if n1 < n0 else 'non-deposits'} for {n_folds}-fold "
                         "cross-validation: every fold needs at least one. Use fewer folds or add data.")


class ProspectivityModel:
    """Deposit probability from evidence features.

    Parameters
    ----------
    method : one of :data:`METHODS`
    feature_names : names of the features, in column order (checked against a stack's bands)
    class_weight : ``"auto"`` (classes weigh the same), ``None``, or ``(w0, w1)``
    epochs, pretext_epochs, seed, finetune (``"full"`` / ``"linear"``), hidden : network settings

    Features are standardised with means and standard deviations stored in the model: from the
    pretext data for ``transfer`` (the abundant, representative sample the body learnt on), else
    from the training data.
    """

    def __init__(self, method: str = "transfer", feature_names: Sequence[str] = (), class_weight="auto",
                 epochs: int = 200, pretext_epochs: int = 100, seed: int = 0, finetune: str = "full",
                 hidden: Sequence[int] = (32, 16), members: int = 10, latent_dim: int = 4):
        if method not in METHODS:
            raise GeoMLError(f"Unknown method '{method}'; use one of {', '.join(METHODS)}.")
        self.method, self.feature_names = method, list(feature_names)
        self.class_weight, self.epochs, self.pretext_epochs = class_weight, int(epochs), int(pretext_epochs)
        self.seed, self.finetune, self.hidden = int(seed), finetune, tuple(int(h) for h in hidden)
        self.members, self.latent_dim = int(members), int(latent_dim)
        self.pretext_ = None
        self.unlabelled_ = None  # default background rows for vae_ensemble (see fit)

    def params(self) -> dict:
        return {"method": self.method, "feature_names": self.feature_names, "class_weight": self.class_weight,
                "epochs": self.epochs, "pretext_epochs": self.pretext_epochs, "seed": self.seed,
                "finetune": self.finetune, "hidden": list(self.hidden), "members": self.members,
                "latent_dim": self.latent_dim}

    def clone(self) -> "ProspectivityModel":
        """An unfitted copy that keeps the pretext network (it does not depend on deposit labels)."""
        other = ProspectivityModel(**self.params())
        other.pretext_, other.pretext_scale_ = self.pretext_, getattr(self, "pretext_scale_", None)
        other.unlabelled_ = self.unlabelled_
        return other

    @classmethod
    def from_ensemble(cls, ensemble, feature_names: Sequence[str]) -> "ProspectivityModel":
        """Wrap a fitted or assembled :class:`~.ensemble.VAEEnsemble` (e.g. from ``assemble_ensemble``)
        so that it can be saved, and used by the Processing algorithms, like any trained model."""
        cfg = ensemble.config_
        model = cls(ENSEMBLE, feature_names, cfg["class_weight"], cfg["epochs"], seed=cfg["seed"],
                    members=cfg["members"], latent_dim=cfg["latent_dim"])
        model.est_, model.n_features_ = ensemble, int(cfg["n_features"])
        model.scale_ = (np.zeros(model.n_features_), np.ones(model.n_features_))
        return model

    def _estimator(self):
        if self.method == ENSEMBLE:
            from .ensemble import VAEEnsemble

            return VAEEnsemble({"members": self.members, "latent_dim": self.latent_dim, "epochs": self.epochs,
                                "seed": self.seed, "class_weight": self.class_weight,
                                "feature_names": self.feature_names})
        if self.method in BASELINES:
            return BaselineClassifier(self.method, self.class_weight, self.seed)
        from .transfer import NetworkClassifier

        return NetworkClassifier(self.finetune, self.class_weight, self.epochs, self.seed, self.hidden)

    def pretrain(self, X_pretext: np.ndarray, y_pretext: np.ndarray) -> "ProspectivityModel":
        """Fit the pretext network (``transfer`` only) on ``(m, f)`` features and ``(m,)`` classes."""
        from .transfer import pretrain

        Xp = _finite(X_pretext, "pretext data")
        self.pretext_scale_ = (Xp.mean(axis=0), _safe_std(Xp))
        self.pretext_ = pretrain(self._scale(Xp, self.pretext_scale_), np.asarray(y_pretext), self.hidden,
                                 self.pretext_epochs, self.seed)
        return self

    def fit(self, X: np.ndarray, y: np.ndarray, X_pretext: np.ndarray | None = None,
            y_pretext: np.ndarray | None = None, X_unlabelled: np.ndarray | None = None) -> "ProspectivityModel":
        """Train on ``(n, f)`` features and ``(n,)`` 0/1 labels (rows with NaN are refused).

        *X_unlabelled* ``(m, f)``: background cells for the ``vae_ensemble`` decoder (it standardises
        features itself, over labelled + unlabelled rows).
        """
        X = _finite(X, "training data")
        y = np.asarray(y).astype(np.int64)
        if self.feature_names and X.shape[1] != len(self.feature_names):
            raise GeoMLError(f"{X.shape[1]} feature columns for {len(self.feature_names)} feature names.")
        check_labels(y)
        if self.method == "transfer":
            if self.pretext_ is None:
                if X_pretext is None:
                    raise GeoMLError("The transfer method needs pretext data (e.g. rock classes at points, or a "
                                     "geology raster) to pretrain on; give it, or choose the scratch method.")
                self.pretrain(X_pretext, y_pretext)
            self.scale_ = self.pretext_scale_
            self.est_ = self._estimator().fit(self._scale(X, self.scale_), y, self.pretext_)
        elif self.method == ENSEMBLE:
            self.scale_ = (np.zeros(X.shape[1]), np.ones(X.shape[1]))
            U = X_unlabelled if X_unlabelled is not None else self.unlabelled_
            U = None if U is None else _finite(U, "unlabelled data")
            self.est_ = self._estimator().fit(X, y, U)
        else:
            self.scale_ = (X.mean(axis=0), _safe_std(X))
            self.est_ = self._estimator().fit(self._scale(X, self.scale_), y)
        self.n_features_ = X.shape[1]
        return self

    @staticmethod
    def _scale(X: np.ndarray, scale) -> np.ndarray:
        return ((X - scale[0]) / scale[1]).astype(np.float32)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Deposit probability ``(n,)``; rows with a NaN feature get NaN."""
        X = np.asarray(X, np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_:
            raise GeoMLError(f"The model expects {self.n_features_} features, got {X.shape[-1]}.")
        ok = np.isfinite(X).all(axis=1)
        p = np.full(len(X), np.nan)
        if ok.any():
            p[ok] = self.est_.predict_proba(self._scale(X[ok], self.scale_))
        return p

    def predict_uncertainty(self, X: np.ndarray, device: str | None = "cpu") -> dict[str, np.ndarray]:
        """``vae_ensemble`` only: probability, aleatoric, epistemic, total and mutual information ``(n,)``
        each; rows with a NaN feature get NaN. *device*: see :mod:`~geoml_qgis.core.device`."""
        if self.method != ENSEMBLE:
            raise GeoMLError(f"A {self.method} model gives no uncertainty; train a vae_ensemble model.")
        X = np.asarray(X, np.float64)
        ok = np.isfinite(X).all(axis=1)
        out = {k: np.full(len(X), np.nan) for k in ("probability", *UNCERTAINTY, "mutual_information")}
        if ok.any():
            for k, v in self.est_.predict_uncertainty(X[ok], device=device).items():
                out[k][ok] = v
        return out

    # persistence -------------------------------------------------------------
    def save(self, path: str | os.PathLike, extra: dict | None = None) -> str:
        """Write the model (tensors + JSON; never a pickle); returns the file's SHA-256."""
        state = dict(self.est_.state())
        state["scale.mean"], state["scale.std"] = self.scale_[0], self.scale_[1]
        probe = self.scale_[0][None, :] + self.scale_[1][None, :] * np.linspace(-2, 2, 5)[:, None]
        state["check.X"], state["check.p"] = probe, self.predict_proba(probe)
        meta = {**self.params(), "n_features": self.n_features_, **(extra or {})}
        if self.method == ENSEMBLE:
            meta["ensemble_config"] = self.est_.config_
        if self.pretext_ is not None:
            meta["pretext"] = {"classes": self.pretext_.classes, "accuracy": self.pretext_.accuracy}
        return save_model(path, f"{KIND}.{self.method}", state, meta)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ProspectivityModel":
        state, meta = load_model(path, KIND)
        keys = ("method", "feature_names", "class_weight", "epochs", "pretext_epochs", "seed", "finetune", "hidden",
                "members", "latent_dim")
        model = cls(**{k: meta[k] for k in keys if k in meta})
        if isinstance(model.class_weight, list):
            model.class_weight = tuple(model.class_weight)
        model.meta_ = meta
        model.n_features_ = int(meta["n_features"])
        model.scale_ = (np.asarray(state["scale.mean"], np.float64), np.asarray(state["scale.std"], np.float64))
        est = model._estimator()
        model.est_ = est.load_state(state, meta["ensemble_config"] if model.method == ENSEMBLE else model.n_features_)
        p = model.predict_proba(np.asarray(state["check.X"]))
        if not np.allclose(p, np.asarray(state["check.p"]), atol=1e-6):
            raise GeoMLError(f"'{os.path.basename(path)}' does not reproduce its saved predictions with this "
                             "scikit-learn/torch version; retrain the model.")
        return model

    # rasters -----------------------------------------------------------------
    def check_bands(self, names: Sequence[str]) -> None:
        """Refuse a stack whose bands are not the model's features, naming both."""
        if list(names) != self.feature_names:
            missing = [n for n in self.feature_names if n not in names]
            extra = [n for n in names if n not in self.feature_names]
            detail = ""
            if missing:
                detail += f" Missing: {', '.join(missing)}."
            if extra:
                detail += f" Not in the model: {', '.join(extra)}."
            if not missing and not extra:
                detail = " Same bands in a different order."
            raise GeoMLError(
                f"The feature stack's bands ({', '.join(names)}) are not the ones the model was trained on "
                f"({', '.join(self.feature_names)}).{detail} Build the stack with the same inputs."
            )

    def predict_stack(self, stack_path: str | os.PathLike, output: str | os.PathLike, parameters: dict | None = None,
                      model_hash: str | None = None, progress: ProgressCallback | None = None,
                      block_size: int = 512, uncertainty: dict[str, str] | None = None,
                      workers: int | None = None, device: str | None = "cpu",
                      algorithm: str = "geoml_qgis.core.prospectivity.predict_stack") -> None:
        """Write the deposit probability of every cell of a feature stack, block by block.

        Cells with nodata in any band stay nodata. The output is styled 0..1 (viridis).
        *uncertainty* maps ``aleatoric``/``epistemic``/``total`` to output paths (``vae_ensemble`` only).
        *workers* threads predict blocks at once (None: every core); the files do not depend on it.
        *device* (``vae_ensemble`` with uncertainty outputs): ``cpu``, ``auto`` or ``cuda``.
        """
        if uncertainty:
            return self._predict_stack_uncertainty(stack_path, output, uncertainty, parameters, model_hash,
                                                   progress, block_size, workers, device, algorithm)
        with RasterStack([stack_path]) as stack:
            self.check_bands(stack.band_names)
            meta = provenance(algorithm, parameters, model_hash)
            def compute(win):
                block = stack.read(win)  # thread-safe: each worker reads through its own GDAL handle
                px = np.where(np.ma.getmaskarray(block), np.nan, block.data).reshape(block.shape[0], -1).T
                return np.ma.masked_invalid(self.predict_proba(px).astype(np.float32).reshape(win.height, win.width))

            report(progress, 0.0)
            with BlockWriter(output, stack.grid, 1, "float32", band_names=["probability"], metadata=meta,
                             style=RasterStyle("continuous", ramp="viridis", vmin=0, vmax=1)) as writer:
                process_blocks(stack.grid, compute, writer, progress, block_size, workers)

    def _predict_stack_uncertainty(self, stack_path, output, uncertainty, parameters, model_hash, progress,
                                   block_size, workers, device, algorithm) -> None:
        import contextlib

        keys = [k for k in UNCERTAINTY if uncertainty.get(k)]
        with RasterStack([stack_path]) as stack, contextlib.ExitStack() as outs:
            self.check_bands(stack.band_names)
            meta = provenance(algorithm, parameters, model_hash)
            writers = [outs.enter_context(BlockWriter(
                output, stack.grid, 1, "float32", band_names=["probability"], metadata=meta,
                style=RasterStyle("continuous", ramp="viridis", vmin=0, vmax=1)))]
            for k in keys:
                writers.append(outs.enter_context(BlockWriter(
                    uncertainty[k], stack.grid, 1, "float32", band_names=[k], metadata=meta,
                    style=RasterStyle("continuous", ramp="magma", vmin=0, vmax=0.5))))

            def compute(win):
                block = stack.read(win)
                px = block.data.reshape(block.shape[0], -1)  # (f, cells) float32, feature-major
                ok = ~np.ma.getmaskarray(block).reshape(px.shape).any(axis=0)
                if ok.all():  # no gap: the block as it is, no copies of its cells
                    u = self.est_.predict_uncertainty(px.T, device, mutual_information=False)
                    return [u[k].reshape(win.height, win.width) for k in ("probability", *keys)]
                out = [np.full(px.shape[1], np.nan, np.float32) for _ in range(1 + len(keys))]
                if ok.any():
                    u = self.est_.predict_uncertainty(px[:, ok].T, device, mutual_information=False)
                    for o, k in zip(out, ("probability", *keys)):
                        o[ok] = u[k]
                return [o.reshape(win.height, win.width) for o in out]

            process_blocks(stack.grid, compute, writers, progress, block_size, workers)


def _finite(X, what: str) -> np.ndarray:
    X = np.asarray(X, np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise GeoMLError(f"The {what} is empty.")
    if not np.isfinite(X).all():
        raise GeoMLError(f"The {what} has missing (NaN) feature values; drop those rows first.")
    return X


def _safe_std(X: np.ndarray) -> np.ndarray:
    sd = X.std(axis=0)
    return np.where(sd > 1e-12, sd, 1.0)


def assemble_model(member_states: list[dict], config: dict) -> ProspectivityModel:
    """Members trained apart (scale-out) as one saveable :class:`ProspectivityModel` (the form
    ``geoml:predictprospectivity`` reads); ``config["features"]`` names the features."""
    from .ensemble import assemble_ensemble

    return ProspectivityModel.from_ensemble(assemble_ensemble(member_states, config), config["features"])
