"""Labelled vectors for the classifier: a built-in learnable task, or your own data.

Your own data is a `.npz` file with two arrays of equal length n:

    features  float, shape (n, 32)
    label     int, shape (n,), each in 0..2

    numpy.savez("data.npz", features=features, label=label)
"""

from pathlib import Path

import numpy as np

from parallel.config import ModelConfig

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


def split(data: Data, validation=0.1, test=0.1, seed=0) -> tuple[Data, Data, Data]:
    """Shuffle examples and split them into train, validation and test parts."""
    inputs, targets = data
    count = num_examples(data)
    order = np.random.default_rng(seed).permutation(count)
    num_test, num_validation = int(count * test), int(count * validation)
    test_idx, validation_idx, train_idx = np.split(
        order, [num_test, num_test + num_validation]
    )
    return tuple(
        (
            {name: array[idx] for name, array in inputs.items()},
            targets[idx],
        )
        for idx in (train_idx, validation_idx, test_idx)
    )


def make_synthetic_data(num_examples, input_shape, num_classes, seed=0) -> Data:
    """Balanced classes of Gaussian points, each class around its own random mean.

    Every class is equally likely, so chance accuracy is 1 / num_classes: where an
    untrained model sits, and far below a trained one.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(num_classes, size=num_examples)
    means = rng.normal(size=(num_classes, *input_shape))
    features = means[labels] + rng.normal(size=(num_examples, *input_shape))
    return {"features": features.astype("float32")}, labels.astype("int32")


def load_data(path, input_shape, num_classes) -> Data:
    """Read labelled vectors from a `.npz` file in the format of the docstring."""
    inputs, targets = read_npz(path, {"features": input_shape}, ["label"])
    return inputs, class_labels(path, "label", targets["label"], num_classes)


def load_splits(data_path=None, seed=0) -> tuple[Data, Data, Data]:
    """Train, validation and test data from `data_path`, or built-in data if None."""
    config = ModelConfig()
    if data_path is None:
        data = make_synthetic_data(8192, config.input_shape, config.num_classes, seed)
    else:
        data = load_data(data_path, config.input_shape, config.num_classes)
    return split(data, seed=seed)
