"""Evaluate a trained model on a data file: its metrics as JSON, and plots.

python -m siamese evaluate runs/RUN --data test.csv
"""

import argparse
import json
import sys
from pathlib import Path

import keras

from siamese.data import load_data
from siamese.tools.batches import batches
from siamese.tools.plots import result_plots
from siamese.tools.readers import DataError, met_in_pipeline
from siamese.tools.schema import Schema
from siamese.tools.settings import PROJECT, ConfigError, read_toml


def trained_model(
    run_dir: Path, name: str = "best.keras"
) -> tuple[keras.Model, Schema]:
    """A training run's saved model, and the schema of its data."""
    if not (run_dir / name).is_file() or not (run_dir / "schema.json").is_file():
        raise DataError(
            f"{run_dir} holds no trained model ({name}, schema.json): pass the "
            "--output-dir of a finished `train` run"
        )
    check_project(run_dir)
    schema = Schema.load(run_dir / "schema.json")  # first: it fails fast
    return keras.saving.load_model(run_dir / name), schema


def check_project(run_dir: Path) -> None:
    """Raise a DataError unless `run_dir`'s config.toml names this project."""
    path = run_dir / "config.toml"
    try:
        project = read_toml(path).get("project") if path.is_file() else None
    except ConfigError as error:
        raise DataError(str(error)) from None
    if not isinstance(project, dict) or set(project) != set(PROJECT):
        raise DataError(
            f"{run_dir}: no config.toml names its project, so this version of "
            f"{PROJECT['package']} did not write it: train again"
        )
    if project != PROJECT:
        package, pattern = project["package"], project["pattern"]
        raise DataError(
            f"{run_dir} is a run of the {pattern} project {package}, not of this "
            f"{PROJECT['pattern']} project {PROJECT['package']}: evaluate and "
            f"predict it with python -m {package} instead"
        )


def evaluate(
    run_dir, data_path, plots_dir=None, batch_size: int = 256
) -> dict[str, float]:
    """The loss and metrics of a run's best model on the examples of `data_path`,
    and with `plots_dir`, plots of its results there (see plots.result_plots)."""
    model, schema = trained_model(Path(run_dir))
    data = load_data(data_path, schema)
    results = model.evaluate(batches(data, batch_size), return_dict=True, verbose=0)
    if plots_dir is not None:
        Path(plots_dir).mkdir(parents=True, exist_ok=True)
        result_plots(model, data, schema, plots_dir, batch_size)
    return {name: float(value) for name, value in results.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m siamese evaluate",
        description="Evaluate a trained model on a data file.",
        allow_abbrev=False,
    )
    parser.add_argument("run_dir", help="a training run's --output-dir")
    parser.add_argument(
        "--data", required=True, help="a file with the columns of the training data"
    )
    parser.add_argument("--out", help="also write the metrics to this JSON file")
    parser.add_argument(
        "--plots", help="where to draw the results (default: RUN_DIR/evaluation)"
    )
    args = parser.parse_args(argv)
    if args.out and Path(args.out).resolve() == Path(args.data).resolve():
        parser.exit(2, f"error: --out {args.out} is the --data file: name another\n")
    plots_dir = Path(args.plots or Path(args.run_dir) / "evaluation")
    try:
        results = evaluate(args.run_dir, args.data, plots_dir)
    except DataError as error:
        parser.exit(2, f"error: {error}\n")
    except Exception as error:
        met = met_in_pipeline(error)
        if met is None:
            raise
        parser.exit(2, f"error: {met}\n")
    text = json.dumps(results, indent=2) + "\n"
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text)
    plots = ", ".join(str(path) for path in sorted(plots_dir.glob("*.png")))
    print(f"Plots: {plots}", file=sys.stderr)  # stdout: the JSON alone


if __name__ == "__main__":
    main()
