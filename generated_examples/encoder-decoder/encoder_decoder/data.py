"""Token sequences for the encoder-decoder: a built-in learnable task, or your own data.

Token 0 is the start token; sequences use tokens 1..9. Your own data is a
`.npz` file with two int arrays of equal length n:

    source  int, shape (n, 5), tokens in 1..9
    target  int, shape (n, 5), tokens in 1..9

    numpy.savez("data.npz", source=source, target=target)

The decoder input for teacher forcing (the target shifted right, start token first)
is derived from `target`.
"""

import math
from pathlib import Path

import numpy as np

from encoder_decoder.config import ModelConfig
from encoder_decoder.model import START_TOKEN

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
        inputs = {name: arrays[name] for name in input_shapes}
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


def with_decoder_input(source: np.ndarray, target: np.ndarray) -> Data:
    """Inputs for teacher forcing: the source, and the target shifted right by one."""
    start = np.full((len(target), 1), START_TOKEN, dtype="int32")
    decoder_input = np.concatenate([start, target[:, :-1]], axis=1)
    return {"source": source, "decoder_input": decoder_input}, target


def make_synthetic_data(num_examples, vocab_size, sequence_length, seed=0) -> Data:
    """Random token sequences to be reversed: the target is the source backwards."""
    rng = np.random.default_rng(seed)
    source = rng.integers(1, vocab_size, size=(num_examples, sequence_length))
    source = source.astype("int32")
    return with_decoder_input(source, source[:, ::-1].copy())


def load_data(path, vocab_size, sequence_length) -> Data:
    """Read sequence pairs from a `.npz` file in the format of the docstring."""
    shape = (sequence_length,)
    inputs, targets = read_npz(path, {"source": shape}, ["target"])
    source, target = inputs["source"], targets["target"]
    for name, tokens in (("source", source), ("target", target)):
        if (
            tokens.shape[1:] != shape
            or not np.issubdtype(tokens.dtype, np.integer)
            or not ((tokens >= 1) & (tokens < vocab_size)).all()
        ):
            raise DataError(
                f"{path}: '{name}' must be integer tokens from 1 to {vocab_size - 1} "
                f"of shape (n, {sequence_length})"
            )
    return with_decoder_input(source.astype("int32"), target.astype("int32"))


def load_splits(data_path=None, seed=0) -> tuple[Data, Data, Data]:
    """Train, validation and test data from `data_path`, or built-in data if None."""
    config = ModelConfig()
    if data_path is None:
        data = make_synthetic_data(
            8192, config.vocab_size, config.sequence_length, seed
        )
    else:
        data = load_data(data_path, config.vocab_size, config.sequence_length)
    return split(data, seed=seed)
