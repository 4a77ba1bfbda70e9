"""Compare runs: their settings that differ, their metrics, their validation curves.

    python -m siamese runs
    python -m siamese runs tuning/search

These compare the runs in `runs/`, then the trials of a search. A run is a folder
with the `config.toml` that `train` writes. The table has a row per run: the
settings in which the runs differ, the epochs trained, the validation metrics of
the epoch kept (the lowest validation loss) and the test metrics. The plot,
`validation_curves.png`, draws every run's validation curves.
"""

import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from siamese.tools.settings import ConfigError, read_toml


def best_epoch(rows: list[dict[str, float]]) -> dict[str, float]:
    """The metrics of the epoch a run keeps: the one with the lowest validation loss.

    `rows`: the run's history, as `read_history` reads it.
    """
    best = min(rows, key=lambda row: row["val_loss"])
    return {name: value for name, value in best.items() if name != "epoch"}


def read_history(history_path: Path) -> list[dict[str, float]]:
    """The rows of a run's `history.csv`, one per epoch, as numbers."""
    with open(history_path, newline="") as file:
        rows = [
            {name: float(value) for name, value in row.items()}
            for row in csv.DictReader(file)
        ]
    return [{**row, "val_loss": nan_last(row["val_loss"])} for row in rows]


def nan_last(value: float) -> float:
    """A validation loss that `min` can rank: a diverged (NaN) one as infinity."""
    return math.inf if math.isnan(value) else value


def find_runs(paths: list[Path]) -> list[Path]:
    """The runs among `paths`: each path that is a run, and the runs right inside it."""
    runs = []
    for path in paths:
        if (path / "config.toml").is_file():
            runs.append(path)
        else:
            runs.extend(sorted(p.parent for p in path.glob("*/config.toml")))
    return runs


def flat_settings(run: Path) -> dict[str, object]:
    """A run's settings as `section.field` keys."""
    document = read_toml(run / "config.toml")
    return {
        f"{section}.{name}": value
        for section, values in document.items()
        for name, value in values.items()
    }


def compare(runs: list[Path]) -> list[dict[str, object]]:
    """A row per run: its name, the settings that differ, epochs, and metrics."""
    settings = {run: flat_settings(run) for run in runs}
    keys = list(dict.fromkeys(key for values in settings.values() for key in values))
    differing = [
        key
        for key in keys
        if len({repr(values.get(key)) for values in settings.values()}) > 1
    ]
    rows = []
    for run in runs:
        row = {"run": run_name(run, runs)}
        row |= {key: settings[run].get(key, "") for key in differing}
        if (run / "history.csv").is_file():
            history = read_history(run / "history.csv")
            row["epochs"] = len(history)
            row |= {
                name: value
                for name, value in best_epoch(history).items()
                if name.startswith("val_")
            }
        if (run / "metrics.json").is_file():
            metrics = json.loads((run / "metrics.json").read_text())
            row |= {f"test_{name}": value for name, value in metrics.items()}
        rows.append(row)
    return rows


def run_name(run: Path, runs: list[Path]) -> str:
    """A run's name in the table: its directory, the parent too if names repeat."""
    names = [other.name for other in runs]
    return run.name if names.count(run.name) == 1 else str(run)


def format_table(rows: list[dict[str, object]]) -> str:
    """Rows as a text table: a column per key, numbers right-aligned to 4 digits."""
    columns = list(dict.fromkeys(key for row in rows for key in row))

    def cell(value: object) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    cells = [[cell(row.get(column, "")) for column in columns] for row in rows]
    widths = [
        max(len(column), *(len(line[index]) for line in cells))
        for index, column in enumerate(columns)
    ]
    numeric = [
        all(isinstance(row.get(column), (int, float)) for row in rows)
        for column in columns
    ]

    def line(values: list[str]) -> str:
        return "  ".join(
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(columns)] + [line(values) for values in cells])


def validation_curves(runs: list[Path], out_path: Path) -> Path:
    """One panel per validation metric, one line per run, over the epochs."""
    histories = {
        run_name(run, runs): read_history(run / "history.csv")
        for run in runs
        if (run / "history.csv").is_file()
    }
    names = list(
        dict.fromkeys(
            name
            for rows in histories.values()
            for name in rows[0]
            if name.startswith("val_")
        )
    )
    columns = min(len(names), 3)
    lines = math.ceil(len(names) / columns)
    figure = Figure(figsize=(4.5 * columns, 3.4 * lines), layout="constrained")
    grid = np.ravel(figure.subplots(lines, columns, squeeze=False))
    for axes, name in zip(grid[: len(names)], names, strict=True):
        for label, rows in histories.items():
            if name in rows[0]:
                epochs = [int(row["epoch"]) + 1 for row in rows]
                axes.plot(epochs, [row[name] for row in rows], label=label)
        axes.set(title=name, xlabel="epoch")
    grid[0].legend(fontsize="small")
    for axes in grid[len(names) :]:
        axes.set_visible(False)
    figure.savefig(out_path, dpi=100)
    return Path(out_path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m siamese runs",
        description="Compare runs: a table of their settings and metrics, and a "
        "plot of their validation curves.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[Path("runs")],
        help="runs, or directories of runs (default: runs)",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        help="where to write the plot (default: validation_curves.png in the "
        "first directory of runs)",
    )
    args = parser.parse_args(argv)
    runs = find_runs(args.paths)
    if not runs:
        parser.exit(2, f"error: no runs in {', '.join(map(str, args.paths))}\n")
    try:
        rows = compare(runs)
    except ConfigError as error:
        parser.exit(2, f"error: {error}\n")
    print(format_table(rows))
    if any((run / "history.csv").is_file() for run in runs):
        first = args.paths[0]
        folder = first.parent if first in runs else first
        plot = validation_curves(runs, args.plot or folder / "validation_curves.png")
        print(f"Validation curves: {plot}")


if __name__ == "__main__":
    main()
