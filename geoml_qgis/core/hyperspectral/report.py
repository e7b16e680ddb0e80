"""HTML training report: curves, held-out confusion matrix and scores (matplotlib figures as base64 PNG)."""
from __future__ import annotations

import html

import numpy as np

from ..io.atomic import write_text_atomic
from ..report import figure_png, html_page, new_axes


def write_training_report(path, history: dict, held_out: dict, classes: list[str], info: dict) -> None:
    """Write the report of a trained spectral classifier.

    *held_out* is :func:`~.metrics.scores` on the held-out set; *info* lists
    settings and data (shown as a table).
    """
    fig, axes = new_axes(10, 3.5, 1, 2)
    epochs = np.arange(1, len(history.get("train_loss", [])) + 1)
    axes[0].plot(epochs, history.get("train_loss", []), label="training")
    if history.get("val_loss"):
        axes[0].plot(epochs, history["val_loss"], label="held out")
    axes[0].set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
    axes[1].plot(epochs, history.get("train_acc", []), label="training")
    if history.get("val_acc"):
        axes[1].plot(epochs, history["val_acc"], label="held out")
    axes[1].set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0, 1.02))
    for ax in axes:
        ax.legend()
        ax.grid(alpha=0.3)
    curves = figure_png(fig)

    cm = np.asarray(held_out["confusion"], float)[:, :len(classes)]
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = new_axes(1.2 + 0.55 * len(classes), 1.0 + 0.5 * len(classes))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="true")
    for i in range(len(classes)):
        for j in range(len(classes)):
            if cm[i, j]:
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.5 else "black")
    conf = figure_png(fig)

    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in info.items())
    f1 = "".join(f"<tr><td>{html.escape(c)}</td><td>{held_out['f1'][c]:.3f}</td></tr>" for c in classes)
    text = html_page("Spectral classifier (1D CNN)", [f"""<table>{rows}</table>
<h2>Training curves</h2><img src="data:image/png;base64,{curves}">
<h2>Held-out set</h2>
<p>Overall accuracy {held_out['accuracy']:.3f}, Cohen's kappa {held_out['kappa']:.3f}, {held_out['n']} spectra.</p>
<img src="data:image/png;base64,{conf}">
<table><tr><th>class</th><th>F1</th></tr>{f1}</table>"""])
    write_text_atomic(path, text)
