"""Predict with a trained model, one row per example of a data file.

python -m multi_output predict RUN --data FILE --out OUT

Each target gets a column: a class name (and one probability column per class) or
a number in the training targets' units. The data needs no target columns. Data
that `train` would stream (a folder or glob of files, or files over STREAM_ABOVE
bytes: tools/streaming.py) is read and predicted a block of rows at a time, and
the rows are written to OUT as they come.
"""

import argparse
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from multi_output.data import as_targets
from multi_output.tools.evaluate import trained_model
from multi_output.tools.readers import DataError, write_blocks
from multi_output.tools.schema import Schema, read_examples
from multi_output.tools.streaming import input_blocks, join, streams


def predict(run_dir, data_path, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Per target, the predictions for every example of `data_path`."""
    return join(list(predict_blocks(run_dir, data_path, batch_size)))


def predict_blocks(
    run_dir, data_path, batch_size: int = 256
) -> Iterator[dict[str, np.ndarray]]:
    """The predictions of `predict`, a block of examples at a time: all of them
    for a file read whole, BLOCK_BATCHES batches for a streamed one."""
    run_dir = Path(run_dir)
    model, schema = trained_model(run_dir)
    if streams(data_path):
        blocks = input_blocks(data_path, schema, batch_size)
    else:
        blocks = [read_examples(data_path, schema, targets=False)[0]]
    for inputs in blocks:
        outputs = model.predict(inputs, batch_size=batch_size, verbose=0)
        yield prediction_columns(outputs, schema)


def prediction_columns(outputs, schema: Schema) -> dict[str, np.ndarray]:
    """The model's `outputs` as columns: per target, its class names and class
    probabilities, or its numbers."""
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
        rows = write_blocks(predict_blocks(args.run_dir, args.data), args.out)
    except DataError as error:
        parser.exit(2, f"error: {error}\n")
    print(f"Predictions for {rows} examples: {args.out}")


if __name__ == "__main__":
    main()
