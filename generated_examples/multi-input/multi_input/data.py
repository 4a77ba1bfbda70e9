"""Labelled examples with several inputs: a built-in learnable task, or your own data.

Your own data is a table (CSV or Parquet) or a `.npz` file of named arrays, one row
per example:

    label    the class: integers or class names, two classes or more
    NAME.*   the columns of input NAME (numbers or text categories), such as
             clinical.age, clinical.weight, scan.p0, scan.p1, ...

    python -m multi_input train \\
        --data patients.csv --columns label=outcome

`--inputs "clinical=age,weight;scan=p0,p1"` names each input's columns instead. A
`.npz` file holds one float array per input, shape (n, width), and `label`:

    numpy.savez("data.npz", label=label, **inputs)  # inputs: {"clinical": ..., ...}

The model takes as many inputs, of the widths, as the training file has; it
normalizes each itself, with statistics of the training split saved in the model.
"""

import numpy as np

from multi_input.config import TARGETS, ModelConfig, TrainConfig
from multi_input.tools.readers import DataError, forget_files, parse_columns, split
from multi_input.tools.schema import Schema, find_schema, read_examples
from multi_input.tools.streaming import (
    Split,
    TableStream,
    held_out_stream,
    stream_splits,
    streams,
)

# An example is its inputs by name, and its targets.
Data = tuple[dict[str, np.ndarray], np.ndarray]


def make_synthetic_data(
    num_examples, input_widths, seed=0, num_classes=TARGETS["label"]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Gaussian inputs labelled by the random direction, across all of them, they align
    with most: argmax_k sum_i <x_i, direction_ik>. Every input matters.
    """
    rng = np.random.default_rng(seed)
    inputs = {
        name: rng.normal(size=(num_examples, width)).astype("float32")
        for name, width in input_widths
    }
    scores = sum(
        array @ rng.normal(size=(array.shape[-1], num_classes))
        for array in inputs.values()
    )
    return inputs, {"label": scores.argmax(axis=-1).astype("int32")}


def as_data(inputs: dict[str, np.ndarray], targets: dict[str, np.ndarray]) -> Data:
    """Examples as the model takes them."""
    return inputs, targets["label"]


def as_targets(outputs: np.ndarray) -> dict[str, np.ndarray]:
    """The model's predictions of each target."""
    return {"label": outputs}


def load_data(path, schema: Schema, stream: str = "auto") -> Data | TableStream:
    """The examples of a file that follows `schema` (the training file's); read
    from disk a chunk at a time if `stream` (see TrainConfig.stream) says so."""
    if streams(path, stream):
        return held_out_stream(path, schema, as_data)
    inputs, targets, _ = read_examples(path, schema)
    return as_data(inputs, targets)


def built_in_schema() -> Schema:
    """The schema of the built-in data, and of `.npz` files in its layout."""
    widths = dict(ModelConfig().input_widths)
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
            8192, ModelConfig().input_widths, seed=config.seed
        )
        parts = split(as_data(inputs, targets), validation, test, seed=config.seed)
    elif streams(config.data_path, config.stream):
        schema, parts = stream_splits(
            config.data_path,
            parse_columns(config.columns, TARGETS),
            config.inputs,
            TARGETS,
            Split(config.seed, validation, test, config.group_column),
            as_data,
        )
    else:
        columns = parse_columns(config.columns, TARGETS)
        schema = find_schema(
            config.data_path, columns, config.inputs, config.group_column
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
