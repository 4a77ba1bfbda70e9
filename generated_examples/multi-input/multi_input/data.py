"""Labelled examples with several inputs: a built-in learnable task, or your own data.

Your own data is a `.npz` file with one float array per input and the labels, all
of the same length n:

    input_0  float, shape (n, 10)
    input_1  float, shape (n, 15)
    label  int, shape (n,), each in 0..2

    numpy.savez("data.npz", label=label, **inputs)  # inputs: {"input_0": ..., ...}
"""

import math
from pathlib import Path

import numpy as np

from multi_input.config import ModelConfig

Data = tuple[dict[str, np.ndarray], np.ndarray]


class DataError(ValueError):
    """A data file that does not match the documented format."""


def read_npz(
    path, input_shapes: dict[str, tuple[int, ...]], targets: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Read the input arrays named in `input_shapes` and the `targets` arrays."""
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"{path} does not exist; pass a .npz file (format: see data.py)"
        )
    names = [*input_shapes, *targets]
    with np.load(path) as arrays:
        missing = sorted(set(names) - set(arrays.files))
        if missing:
            raise DataError(
                f"{path} lacks the arrays {missing}; it needs {', '.join(names)}"
            )
        inputs = {name: arrays[name].astype("float32") for name in input_shapes}
        outputs = {name: arrays[name] for name in targets}
    count = len(outputs[targets[0]])
    expected = {name: (count, *shape) for name, shape in input_shapes.items()}
    expected.update({name: (count, *outputs[name].shape[1:]) for name in targets})
    for name, array in {**inputs, **outputs}.items():
        if array.shape != expected[name]:
            raise DataError(
                f"{path}: '{name}' has shape {array.shape}, expected "
                f"{expected[name]} to match {count} '{targets[0]}' values"
            )
    return inputs, outputs


def class_labels(path, name: str, values: np.ndarray, num_classes: int) -> np.ndarray:
    """`values` as int32 class labels of shape (n,), if they are integers in range."""
    labels = values.reshape(len(values), -1)[:, 0]
    if values.size != len(values) or not (
        np.issubdtype(labels.dtype, np.integer)
        and ((labels >= 0) & (labels < num_classes)).all()
    ):
        raise DataError(
            f"{path}: '{name}' must hold integer classes from 0 to {num_classes - 1}"
        )
    return labels.astype("int32")


def num_examples(data: Data) -> int:
    inputs, _ = data
    return len(next(iter(inputs.values())))


def select(data, rows):
    """The examples `rows` of `data`, however tuples and dicts nest its arrays."""
    if isinstance(data, tuple):
        return tuple(select(value, rows) for value in data)
    if isinstance(data, dict):
        return {name: select(value, rows) for name, value in data.items()}
    return data[rows]


def split(
    data: Data, validation=0.1, test=0.1, seed=0, groups=None
) -> tuple[Data, Data, Data]:
    """Shuffle examples into train, validation and test parts.

    With `groups` (one key per example, such as a patient id), the groups are
    shuffled instead: all examples of a group land in the same part.
    """
    if groups is None:
        keys = np.arange(num_examples(data))
    else:
        keys = np.unique(groups, return_inverse=True)[1].reshape(-1)
    count = int(keys.max()) + 1 if len(keys) else 0
    rank = np.random.default_rng(seed).permutation(count)[keys]
    num_test, num_validation = math.ceil(count * test), math.ceil(count * validation)
    return (
        select(data, rank >= num_test + num_validation),
        select(data, (rank >= num_test) & (rank < num_test + num_validation)),
        select(data, rank < num_test),
    )


def make_synthetic_data(num_examples, input_widths, num_classes, seed=0) -> Data:
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
    return inputs, scores.argmax(axis=-1).astype("int32")


def load_data(path, input_widths, num_classes) -> Data:
    """Read labelled examples from a `.npz` file in the format of the docstring."""
    shapes = {name: (width,) for name, width in input_widths}
    inputs, targets = read_npz(path, shapes, ["label"])
    return inputs, class_labels(path, "label", targets["label"], num_classes)


def load_splits(data_path=None, seed=0) -> tuple[Data, Data, Data]:
    """Train, validation and test data from `data_path`, or built-in data if None."""
    config = ModelConfig()
    if data_path is None:
        data = make_synthetic_data(8192, config.input_widths, config.num_classes, seed)
    else:
        data = load_data(data_path, config.input_widths, config.num_classes)
    return split(data, seed=seed)
