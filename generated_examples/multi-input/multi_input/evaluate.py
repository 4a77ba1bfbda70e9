"""Evaluate a trained model on a data file, and print its metrics as JSON.

python -m multi_input.evaluate runs/latest --data test.csv
"""

import argparse
import json
import sys
from pathlib import Path

from multi_input import load_model
from multi_input.batches import batches
from multi_input.data import DataError, Schema, load_data


def trained_model(run_dir: Path, name: str = "best.keras"):
    """A training run's saved model, and the schema of its data."""
    if not (run_dir / name).is_file() or not (run_dir / "schema.json").is_file():
        raise DataError(
            f"{run_dir} holds no trained model ({name}, schema.json): pass the "
            "--output-dir of a finished `train` run"
        )
    return load_model(run_dir / name), Schema.load(run_dir / "schema.json")


def evaluate(run_dir, data_path, batch_size: int = 256) -> dict[str, float]:
    """The loss and metrics of a run's best model on the examples of `data_path`."""
    model, schema = trained_model(Path(run_dir))
    data = load_data(data_path, schema)
    results = model.evaluate(batches(data, batch_size), return_dict=True, verbose=0)
    return {name: float(value) for name, value in results.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m multi_input.evaluate",
        description="Evaluate a trained model on a data file.",
    )
    parser.add_argument("run_dir", help="a training run's --output-dir")
    parser.add_argument(
        "--data", required=True, help="a file with the columns of the training data"
    )
    parser.add_argument("--out", help="also write the metrics to this JSON file")
    args = parser.parse_args(argv)
    try:
        results = evaluate(args.run_dir, args.data)
    except DataError as error:
        sys.exit(f"error: {error}")
    text = json.dumps(results, indent=2) + "\n"
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
