"""Examples with one target per head: a built-in learnable task, or your own data.

Your own data is a table (CSV or Parquet) or a `.npz` file of named arrays, one row
per example, with one column per head:

    score     numbers, in your units
    category  classes: integers or class names, two or more
    features  every other column (or --features a,b,c): numbers or text categories

    python -m multi_output train \\
        --data houses.csv --columns score=price

A `.npz` file holds `features` (float, shape (n, width)) and one array per head:

    numpy.savez("data.npz", features=features, **targets)  # targets: one per head

The model takes as many features as the training file has; it normalizes them
itself, with statistics of the training split saved in the model, and predicts
numbers in their units (it trains on them standardized).
"""

import numpy as np

from multi_output.config import HEADS, TARGETS, ModelConfig, TrainConfig
from multi_output.tools.readers import DataError, forget_files, parse_columns, split
from multi_output.tools.schema import Schema, find_schema, read_examples
from multi_output.tools.streaming import (
    Split,
    TableStream,
    held_out_stream,
    stream_splits,
    streams,
)

# An example is its inputs by name, and its targets.
Data = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]


def make_synthetic_data(
    num_examples, input_shape, seed=0
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Gaussian features with one target per head, each a random function of them.

    A regression target is a random unit-variance projection of the features; a
    classification target is the class whose random direction they align with most.
    """
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(num_examples, *input_shape)).astype("float32")
    targets = {}
    for name, classes in HEADS.items():
        if classes:
            scores = features @ rng.normal(size=(input_shape[-1], classes))
            targets[name] = scores.argmax(axis=-1).astype("int32")
        else:
            direction = rng.normal(size=(input_shape[-1], 1))
            direction /= np.linalg.norm(direction)  # unit norm: unit variance
            targets[name] = (features @ direction).astype("float32")
    return {"features": features}, targets


def as_data(inputs: dict[str, np.ndarray], targets: dict[str, np.ndarray]) -> Data:
    """Examples as the model takes them."""
    return inputs, targets


def as_targets(outputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The model's predictions of each target: the head named after it."""
    return outputs


def load_data(path, schema: Schema, stream: str = "auto") -> Data | TableStream:
    """The examples of a file that follows `schema` (the training file's); read
    from disk a chunk at a time if `stream` (see TrainConfig.stream) says so."""
    if streams(path, stream):
        return held_out_stream(path, schema, as_data)
    inputs, targets, _ = read_examples(path, schema)
    return as_data(inputs, targets)


def built_in_schema() -> Schema:
    """The schema of the built-in data, and of `.npz` files in its layout."""
    widths = {"features": ModelConfig().input_shape[-1]}
    classes = {name: list(range(count)) for name, count in TARGETS.items() if count}
    return Schema(
        {name: [name] for name in widths},
        widths,
        {name: name for name in TARGETS},
        classes,
    )


def load_splits(config: TrainConfig) -> tuple[Data, Data, Data, Schema]:
    """Train, validation and test data, and the schema of their files.

    From `config.data_path` (built-in data if None), split at random by example, or
    by `config.group_column` (all rows of a group on one side); a
    `config.validation_path` or `config.test_path` file replaces that part. Data
    bigger than memory is streamed: each part is then a TableStream, read from
    disk a chunk at a time (see tools/streaming.py).
    """
    validation = 0.0 if config.validation_path else 0.1
    test = 0.0 if config.test_path else 0.1
    if config.data_path is None:
        if config.validation_path or config.test_path:
            raise DataError(
                "--validation-data and --test-data need --data: the built-in data "
                "makes its own"
            )
        schema = built_in_schema()
        inputs, targets = make_synthetic_data(
            8192, ModelConfig().input_shape, seed=config.seed
        )
        parts = split(as_data(inputs, targets), validation, test, seed=config.seed)
    elif streams(config.data_path, config.stream):
        schema, parts = stream_splits(
            config.data_path,
            parse_columns(config.columns, TARGETS),
            config.features,
            TARGETS,
            Split(config.seed, validation, test, config.group_column),
            as_data,
        )
    else:
        columns = parse_columns(config.columns, TARGETS)
        schema = find_schema(
            config.data_path, columns, config.features, config.group_column
        )
        inputs, targets, groups = read_examples(
            config.data_path, schema, group=config.group_column
        )
        parts = split(
            as_data(inputs, targets), validation, test, config.seed, groups=groups
        )
    train_split, validation_split, test_split = parts
    if config.validation_path:
        validation_split = load_data(config.validation_path, schema, config.stream)
    if config.test_path:
        test_split = load_data(config.test_path, schema, config.stream)
    forget_files()  # the arrays hold the data now: free the parsed files
    return train_split, validation_split, test_split, schema
