"""Examples with one target per head: a built-in learnable task, or your own data.

Your own data is a `.npz` file with the features and one array per head, all of
the same length n:

    features  float, shape (n, 32)
    score  float, shape (n,)
    category  int, shape (n,), each in 0..2

    numpy.savez("data.npz", features=features, **targets)  # targets: one per head
"""

from pathlib import Path

import numpy as np

from multi_output.config import HEADS, ModelConfig

Data = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]


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
            {name: array[idx] for name, array in targets.items()},
        )
        for idx in (train_idx, validation_idx, test_idx)
    )


def make_synthetic_data(num_examples, input_shape, seed=0) -> Data:
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


def load_data(path, input_shape) -> Data:
    """Read examples from a `.npz` file in the format of this module's docstring."""
    inputs, targets = read_npz(path, {"features": input_shape}, list(HEADS))
    for name, classes in HEADS.items():
        if classes:
            targets[name] = class_labels(path, name, targets[name], classes)
        else:
            targets[name] = targets[name].reshape(-1, 1).astype("float32")
    return inputs, targets


def load_splits(data_path=None, seed=0) -> tuple[Data, Data, Data]:
    """Train, validation and test data from `data_path`, or built-in data if None."""
    input_shape = ModelConfig().input_shape
    if data_path is None:
        data = make_synthetic_data(8192, input_shape, seed)
    else:
        data = load_data(data_path, input_shape)
    return split(data, seed=seed)
