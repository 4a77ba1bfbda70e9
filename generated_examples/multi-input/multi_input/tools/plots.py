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

from multi_input.data import Data, as_targets
from multi_input.tools.schema import Schema
from multi_input.tools.streaming import TableStream

# The most held-out examples a plot shows: the first ones of a stream.
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


def confusion_counts(labels, predicted, num_classes: int) -> np.ndarray:
    """How many examples of each true class (row) got each predicted class (column)."""
    counts = np.zeros((num_classes, num_classes), "int64")
    np.add.at(counts, (np.asarray(labels).reshape(-1), predicted), 1)
    return counts


def confusion_matrix(labels, predicted, classes: list, title: str, out_path) -> Path:
    """A heat map of `confusion_counts`, each cell labelled with its count."""
    counts = confusion_counts(labels, predicted, len(classes))
    size = 2.5 + 0.5 * len(classes)
    figure = Figure(figsize=(size, size), layout="constrained")
    axes = figure.subplots()
    axes.imshow(counts, cmap="Blues")
    for (row, column), count in np.ndenumerate(counts):
        color = "white" if count > counts.max() / 2 else "black"
        axes.text(column, row, str(count), ha="center", va="center", color=color)
    ticks = range(len(classes))
    names = [str(name) for name in classes]
    axes.set(title=title, xlabel="predicted", ylabel="true", xticks=ticks, yticks=ticks)
    axes.set_xticklabels(names, rotation=45, ha="right")
    axes.set_yticklabels(names)
    figure.savefig(out_path, dpi=100)
    return Path(out_path)


def predicted_vs_true(values, predicted, title: str, out_path) -> Path:
    """Each example's prediction against its true value; on the diagonal, exact."""
    values, predicted = np.ravel(values), np.ravel(predicted)
    low, high = min(values.min(), predicted.min()), max(values.max(), predicted.max())
    figure = Figure(figsize=(4, 4), layout="constrained")
    axes = figure.subplots()
    axes.scatter(values, predicted, s=8, alpha=0.6)
    axes.plot([low, high], [low, high], color="gray", linewidth=1)
    axes.set(title=title, xlabel="true", ylabel="predicted")
    figure.savefig(out_path, dpi=100)
    return Path(out_path)


def result_plots(
    model: keras.Model,
    data: Data | TableStream,
    schema: Schema,
    out_dir,
    batch_size: int = 256,
) -> list[Path]:
    """Per target, a confusion matrix (classes) or predicted against true values."""
    if isinstance(data, TableStream):
        data = data.head(MAX_PLOTTED)
    inputs, targets = data
    outputs = model.predict(inputs, batch_size=batch_size, verbose=0)
    predicted = as_targets(outputs)
    paths = []
    for name, values in as_targets(targets).items():
        if name in schema.classes:
            choices = np.asarray(predicted[name]).argmax(axis=-1)
            out_path = Path(out_dir) / f"{name}_confusion.png"
            classes = schema.classes[name]
            paths.append(confusion_matrix(values, choices, classes, name, out_path))
        else:
            out_path = Path(out_dir) / f"{name}_predicted_vs_true.png"
            paths.append(predicted_vs_true(values, predicted[name], name, out_path))
    return paths
