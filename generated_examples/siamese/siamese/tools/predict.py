"""Predict with a trained siamese model: pairs called same or not, or embeddings.

python -m siamese predict RUN --data FILE --out OUT

For a pair file (`left` and `right` arrays), per pair: `distance` and `same`, 1
where the run's threshold calls the pair the same class. For a file of items, per
item: its embedding by the trained encoder (`embedding_0`, ...), vectors to compare
or to search for nearest neighbours.

Items that `train` would stream (a folder or glob of tables, or tables over
STREAM_ABOVE bytes: tools/streaming.py) are embedded a block at a time, and the
rows written to OUT as they come.
"""

import argparse
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from siamese.tools.evaluate import trained_model
from siamese.tools.readers import DataError, read_file, write_blocks
from siamese.tools.schema import read_items, read_pairs
from siamese.tools.streaming import input_blocks, join, streams


def predict(run_dir, data_path, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Per pair of `data_path`, its score and `same`; per item, its embedding."""
    if streams(data_path):
        return join(list(predict_blocks(run_dir, data_path, batch_size)))
    model, schema = trained_model(Path(run_dir))
    if "left" in read_file(data_path):
        (inputs, _), _ = read_pairs(data_path, schema, labelled=False)
        scores = model.predict(inputs, batch_size=batch_size, verbose=0).reshape(-1)
        same = scores < schema.threshold
        return {"distance": scores, "same": same.astype("int8")}
    if schema.pairs:  # trained on pairs: items come as one `items` array
        schema = dataclasses.replace(schema, features=["items"])
    inputs, _ = read_items(data_path, schema, labelled=False)
    encoder = model.get_layer("encoder")
    embeddings = encoder.predict(inputs["items"], batch_size=batch_size, verbose=0)
    columns = {f"embedding_{i}": values for i, values in enumerate(embeddings.T)}
    return columns


def predict_blocks(
    run_dir, data_path, batch_size: int = 256
) -> Iterator[dict[str, np.ndarray]]:
    """The predictions of `predict`, a block at a time: all of them for a file
    read whole; for streamed items, the embeddings of BLOCK_BATCHES batches."""
    if not streams(data_path):
        yield predict(run_dir, data_path, batch_size)
        return
    model, schema = trained_model(Path(run_dir))
    if schema.pairs:  # trained on pairs: items come as one `items` column
        schema = dataclasses.replace(schema, features=["items"])
    encoder = model.get_layer("encoder")
    for inputs in input_blocks(data_path, schema, batch_size):
        embeddings = encoder.predict(inputs["items"], batch_size=batch_size, verbose=0)
        yield {f"embedding_{i}": values for i, values in enumerate(embeddings.T)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m siamese predict",
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
