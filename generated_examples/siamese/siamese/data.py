"""Pairs for the siamese network: a built-in learnable task, or your own pairs.

Labels follow one convention across this project (data, loss, metric, README):
1 means both items of a pair are of the same class, 0 means they are not.

Your own pairs are a `.npz` file with three arrays of equal length n:

    left   float, shape (n, 32)   first item of each pair
    right  float, shape (n, 32)   second item of each pair
    label  0 or 1, shape (n,)  1 = same class

    numpy.savez("pairs.npz", left=left, right=right, label=label)
"""

import math
from pathlib import Path

import numpy as np

from siamese.config import ModelConfig

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


def make_synthetic_pairs(
    num_pairs, input_shape, num_classes=8, noise=0.75, seed=0
) -> Data:
    """Pairs of noisy samples around one random prototype per class.

    Half of the pairs share a class (label 1). The noise hides the class from a
    raw distance; a trained encoder sees through it.
    """
    rng = np.random.default_rng(seed)
    prototypes = rng.normal(size=(num_classes, *input_shape))
    left_class = rng.integers(num_classes, size=num_pairs)
    same = rng.random(num_pairs) < 0.5
    offset = rng.integers(1, num_classes, size=num_pairs)
    right_class = np.where(same, left_class, (left_class + offset) % num_classes)
    inputs = {
        side: (
            prototypes[classes] + noise * rng.normal(size=(num_pairs, *input_shape))
        ).astype("float32")
        for side, classes in (("left", left_class), ("right", right_class))
    }
    return inputs, same.astype("float32")


def load_pairs(path, input_shape) -> Data:
    """Read pairs from a `.npz` file in the format of this module's docstring."""
    shapes = {"left": input_shape, "right": input_shape}
    inputs, targets = read_npz(path, shapes, ["label"])
    labels = targets["label"].astype("float32").reshape(-1)
    if not np.isin(labels, (0.0, 1.0)).all():
        raise DataError(f"{path}: 'label' must hold only 0 (different) and 1 (same)")
    return inputs, labels


def load_splits(data_path=None, seed=0) -> tuple[Data, Data, Data]:
    """Train, validation and test pairs from `data_path`, or built-in pairs if None."""
    input_shape = ModelConfig().input_shape
    if data_path is None:
        pairs = make_synthetic_pairs(8192, input_shape, seed=seed)
    else:
        pairs = load_pairs(data_path, input_shape)
    return split(pairs, seed=seed)
