"""Predict with a trained model, one row per example of a data file.

python -m multi_output predict RUN --data FILE --out OUT

Each target gets a column: a class name (and one probability column per class) or
a number in the training targets' units. The data needs no target columns.
"""

import argparse
from pathlib import Path

import numpy as np

from multi_output.data import as_targets
from multi_output.tools.evaluate import trained_model
from multi_output.tools.readers import DataError, write_file
from multi_output.tools.schema import read_examples


def predict(run_dir, data_path, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Per target, the predictions for every example of `data_path`."""
    run_dir = Path(run_dir)
    model, schema = trained_model(run_dir)
    inputs, _, _ = read_examples(data_path, schema, targets=False)
    outputs = model.predict(inputs, batch_size=batch_size, verbose=0)
    columns = {}
    for name, values in as_targets(outputs).items():
        values = np.asarray(values)
        if name in schema.classes:
            classes = schema.classes[name]
            probabilities = values[:, : len(classes)]
            columns[name] = np.array(classes)[probabilities.argmax(axis=-1)]
            for index, label in enumerate(classes):
                columns[f"{name}_probability_{label}"] = probabilities[:, index]
        else:
            columns[name] = values.reshape(len(values))
    return columns


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m multi_output predict",
        description="Predict with a trained model, one row per example of a file.",
        allow_abbrev=False,
    )
    parser.add_argument("run_dir", help="a training run's --output-dir")
    parser.add_argument(
        "--data", required=True, help="a file with the training data's feature columns"
    )
    parser.add_argument(
        "--out", required=True, help="where to write them: .csv, .parquet or .npz"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an --out file that exists (never the --data file)",
    )
    args = parser.parse_args(argv)
    if Path(args.out).suffix not in (".csv", ".parquet", ".npz"):
        parser.error(f"--out {args.out}: name a .csv, .parquet or .npz file")
    if Path(args.out).resolve() == Path(args.data).resolve():
        parser.exit(2, f"error: --out {args.out} is the --data file: name another\n")
    if Path(args.out).exists() and not args.overwrite:
        parser.exit(
            2, f"error: --out {args.out} exists: name another, or add --overwrite\n"
        )
    try:
        columns = predict(args.run_dir, args.data)
        write_file(columns, args.out)
    except DataError as error:
        parser.exit(2, f"error: {error}\n")
    rows = len(next(iter(columns.values())))
    print(f"Predictions for {rows} examples: {args.out}")


if __name__ == "__main__":
    main()
