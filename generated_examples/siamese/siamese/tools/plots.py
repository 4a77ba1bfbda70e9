"""Plots of a run as PNG files: learning curves, and results on held-out data.

Drawn with matplotlib's object interface (`Figure`), without pyplot: no window, no
global state, safe in scripts and tests.
"""

import csv
import math
from pathlib import Path

import keras
import numpy as np
from matplotlib.figure import Figure

from siamese.data import Data
from siamese.tools.batches import batches
from siamese.tools.schema import Schema
from siamese.tools.streaming import TableStream

# The most held-out pairs a plot shows: the first ones of a stream.
MAX_PLOTTED = 100_000


def learning_curves(history_path, out_path) -> Path:
    """Each metric of a run's `history.csv` per epoch, training and validation."""
    with open(history_path, newline="") as file:
        rows = list(csv.DictReader(file))
    names = [name for name in rows[0] if name != "epoch" and "val_" + name in rows[0]]
    epochs = [int(row["epoch"]) + 1 for row in rows]
    columns = min(len(names), 3)
    lines = math.ceil(len(names) / columns)
    figure = Figure(figsize=(4 * columns, 3.2 * lines), layout="constrained")
    grid = np.ravel(figure.subplots(lines, columns, squeeze=False))
    for axes, name in zip(grid[: len(names)], names, strict=True):
        for key, label in ((name, "training"), ("val_" + name, "validation")):
            axes.plot(epochs, [float(row[key]) for row in rows], label=label)
        axes.set(title=name, xlabel="epoch")
        axes.legend()
    for axes in grid[len(names) :]:
        axes.set_visible(False)
    figure.savefig(out_path, dpi=100)
    return Path(out_path)


def roc_points(scores, same) -> tuple[np.ndarray, np.ndarray]:
    """The ROC curve of calling "same" the pairs scored above each cut: false and
    true positive rates, from calling none to calling all."""
    same = np.asarray(same).reshape(-1).astype(bool)
    hits = same[np.argsort(-np.asarray(scores).reshape(-1), kind="stable")]
    true_rate = np.concatenate([[0.0], np.cumsum(hits) / max(hits.sum(), 1)])
    false_rate = np.concatenate([[0.0], np.cumsum(~hits) / max((~hits).sum(), 1)])
    return false_rate, true_rate


def result_plots(
    model: keras.Model,
    data: Data | TableStream,
    schema: Schema,
    out_dir,
    batch_size: int = 256,
) -> list[Path]:
    """The distances of same and different pairs with the run's threshold, and the
    ROC curve of calling pairs "same" below a distance."""
    name = "distance"
    if isinstance(data, TableStream):
        data = data.head(MAX_PLOTTED)
    scores = model.predict(batches(data, batch_size), verbose=0).reshape(-1)
    same = np.asarray(data[1]).reshape(-1).astype(bool)
    figure = Figure(figsize=(9, 3.6), layout="constrained")
    histogram, roc = figure.subplots(1, 2)
    bins = np.linspace(scores.min(), scores.max(), 41)
    histogram.hist(scores[same], bins=bins, alpha=0.6, label="same class")
    histogram.hist(scores[~same], bins=bins, alpha=0.6, label="different classes")
    threshold = schema.threshold
    histogram.axvline(threshold, color="black", linestyle="--", label="threshold")
    histogram.set(title=f"{name} of held-out pairs", xlabel=name, ylabel="pairs")
    histogram.legend()
    false_rate, true_rate = roc_points(-scores, same)
    roc.plot(false_rate, true_rate)
    roc.plot([0, 1], [0, 1], color="gray", linewidth=1)
    roc.set(title="ROC curve", xlabel="false positives", ylabel="true positives")
    out_path = Path(out_dir) / "pairs.png"
    figure.savefig(out_path, dpi=100)
    return [out_path]
