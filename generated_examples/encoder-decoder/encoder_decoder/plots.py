"""Plots of a run as PNG files: learning curves.

Drawn with matplotlib's object interface (`Figure`), without pyplot: no window, no
global state, safe in scripts and tests.
"""

import csv
import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


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
