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

from encoder_decoder.data import Data
from encoder_decoder.model import build_inference_models, decode_sequence
from encoder_decoder.tools.schema import Schema, as_text
from encoder_decoder.tools.streaming import TableStream

# The held-out pairs a plot shows: the first ones.
SHOWN = 8


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


def result_plots(
    model: keras.Model,
    data: Data | TableStream,
    schema: Schema,
    out_dir,
    batch_size: int = 256,
) -> list[Path]:
    """A few held-out pairs: the source, the greedy decoding and the target."""
    if isinstance(data, TableStream):
        data = data.head(SHOWN)
    inputs, target, _ = data
    shown = slice(0, SHOWN)
    source = inputs["source"][shown]
    encoder, decoder = build_inference_models(model)
    decoded = decode_sequence(encoder, decoder, source, target.shape[1], batch_size)
    cells = [
        [shorten(text) for text in row]
        for row in zip(
            as_text(source, schema, "source"),
            as_text(decoded, schema),
            as_text(target[shown], schema),
            strict=True,
        )
    ]
    figure = Figure(figsize=(12, 0.8 + 0.4 * len(cells)), layout="constrained")
    axes = figure.subplots()
    axes.axis("off")
    axes.set_title("held-out pairs, decoded greedily")
    table = axes.table(
        cellText=cells,
        colLabels=["source", "decoded", "target"],
        cellLoc="left",
        loc="upper center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    out_path = Path(out_dir) / "decoded.png"
    figure.savefig(out_path, dpi=100)
    return [out_path]


def shorten(text: str, width: int = 48) -> str:
    """`text`, cut to `width` characters with an ellipsis if longer."""
    return text if len(text) <= width else text[: width - 1] + "…"
