"""Classical baselines (scikit-learn): random forest, SVM with probabilities, logistic regression.

scikit-learn estimators are never pickled (project rule). A saved baseline keeps its training
arrays, hyper-parameters and seed; loading refits it. Every baseline here is deterministic for a
fixed seed (random forest and the SVM's Platt scaling take ``random_state``), so the refitted
model predicts exactly what the saved one did; the model file also stores a few predictions that
:meth:`~geoml_qgis.core.prospectivity.model.ProspectivityModel.load` checks against.
"""
from __future__ import annotations

import numpy as np

from .weights import class_weights

BASELINES = ("random_forest", "svm", "logistic_regression")


class BaselineClassifier:
    """One of :data:`BASELINES` on standardised features ``(n, f)``; ``predict_proba`` gives ``(n,)``."""

    def __init__(self, method: str, class_weight="auto", seed: int = 0):
        if method not in BASELINES:
            raise ValueError(method)
        self.method, self.class_weight, self.seed = method, class_weight, int(seed)

    def _estimator(self, weights: tuple[float, float]):
        cw = {0: weights[0], 1: weights[1]}
        if self.method == "random_forest":
            from sklearn.ensemble import RandomForestClassifier

            return RandomForestClassifier(n_estimators=300, min_samples_leaf=2, class_weight=cw,
                                          random_state=self.seed, n_jobs=1)
        if self.method == "svm":
            from sklearn.svm import SVC

            return SVC(C=1.0, kernel="rbf", gamma="scale", probability=True, class_weight=cw, random_state=self.seed)
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=1.0, class_weight=cw, max_iter=2000)

    def fit(self, X: np.ndarray, y: np.ndarray) -> "BaselineClassifier":
        self.weights_ = class_weights(y, self.class_weight)
        self.X_, self.y_ = np.asarray(X, np.float32), np.asarray(y, np.int64)
        self.est_ = self._estimator(self.weights_).fit(self.X_, self.y_)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Deposit probability ``(n,)``; the SVM's comes from Platt scaling, never from hard labels."""
        return self.est_.predict_proba(np.asarray(X, np.float32))[:, 1].astype(np.float64)

    def state(self) -> dict[str, np.ndarray]:
        return {"train.X": self.X_, "train.y": self.y_}

    def load_state(self, state: dict, n_features: int) -> "BaselineClassifier":
        X, y = np.asarray(state["train.X"]), np.asarray(state["train.y"])
        return self.fit(X, y)
