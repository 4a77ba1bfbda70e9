"""Labelled items and pairs for the siamese network: built-in, or your own data.

Labels follow one convention across this project (data, loss, metric, README):
1 means both items of a pair are of the same class, 0 means they are not.

Your own data is best given as labelled items, from which the project draws its
pairs: a table (CSV or Parquet) with one row per item, or a `.npz` file.

    label  the item's class: integers or names (another column: --columns label=X)
    items  in a table, the other columns (or --features a,b,c): numbers, no NaN;
           in a `.npz` file, an array of shape (n, 32)

    numpy.savez("items.npz", items=items, label=label)

A folder or a glob of tables (shards/part-*.parquet), or tables over 256 MB in
all, are streamed: read from disk a chunk at a time, split by a hash of the row
number (or of the label, by class), each item paired within its chunk (see
tools/streaming.py). `--stream on` or `--stream off` decides instead.

The items are split before any pair is drawn, so that no item is on two sides: by
item (the default), or by class (--split-by class: the validation and test classes
are never seen in training). By class, validation and test take a tenth of the
classes each, two at least (their pairs need two), and training keeps the rest,
two at least: six classes or more. Training pairs are drawn afresh every epoch,
half of the same class and half not; validation and test pairs are drawn once.

Pairs you made yourself are a `.npz` file with `left` and `right` (float, shape
(n, 32)) and `label` (0 or 1) arrays. Split at random by pair, an item in
several pairs can land in training and in test, which inflates the test score; add
`left_id` and `right_id` arrays (one id per item) and the split is by item, pairs
across two sides being left out.
"""

import dataclasses
import functools
import math
import sys

import numpy as np

from siamese.config import ModelConfig, TrainConfig
from siamese.tools.readers import DataError, forget_files, parse_columns, select, split
from siamese.tools.schema import Schema, find_schema, read_items, read_pairs
from siamese.tools.streaming import (
    Split,
    TableStream,
    held_out_stream,
    stream_splits,
    streams,
)

# An example is its inputs by name (a pair: "left" and "right"; an item: "items"),
# and its target (a pair: 1.0 if same; an item: its class).
Data = tuple[dict[str, np.ndarray], np.ndarray]
# The most memory the validation or test pairs drawn from items take.
PAIR_BYTES = 64 * 2**20


def make_synthetic_items(
    num_items, input_shape, num_classes=8, noise=0.75, seed=0
) -> Data:
    """Labelled items: noisy samples around one random prototype per class.

    The noise hides the class from a raw distance; a trained encoder sees through it.
    """
    rng = np.random.default_rng(seed)
    prototypes = rng.normal(size=(num_classes, *input_shape))
    classes = rng.integers(num_classes, size=num_items)
    noisy = prototypes[classes] + noise * rng.normal(size=(num_items, *input_shape))
    return {"items": noisy.astype("float32")}, classes


class PairSampler:
    """Draws a partner for each anchor item: of its class or not, half and half."""

    def __init__(self, classes: np.ndarray):
        self.classes = classes
        self.order = np.argsort(classes, kind="stable")  # items grouped by class
        self.rank = np.empty_like(self.order)
        self.rank[self.order] = np.arange(len(classes))
        grouped = classes[self.order]
        self.start = np.searchsorted(grouped, classes, "left")  # of each item's class
        self.size = np.searchsorted(grouped, classes, "right") - self.start

    def partners(
        self, anchors: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """A partner for each anchor, and 1.0 where it is of the same class.

        An anchor alone in its class always gets a partner of another class;
        items all of one class (a chunk of a stream) only partners of theirs.
        """
        start, size = self.start[anchors], self.size[anchors]
        outside = len(self.classes) - size  # the items of other classes
        same = ((rng.random(len(anchors)) < 0.5) & (size > 1)) | (outside == 0)
        # Same class: another member of it, never the anchor itself.
        step = rng.integers(1, np.maximum(size, 2))
        member = self.order[start + (self.rank[anchors] - start + step) % size]
        # Another class: any item outside the anchor's class.
        other = rng.integers(0, np.maximum(outside, 1))
        other = np.where(other < start, other, other + size) % len(self.classes)
        outsider = self.order[other]
        return np.where(same, member, outsider), same.astype("float32")


def draw_pairs(items: Data, pairs_per_item: int = 4, seed: int | list[int] = 0) -> Data:
    """Pairs drawn once: each item is the left item of `pairs_per_item` pairs, or
    of fewer (one at least) where they would take over PAIR_BYTES."""
    inputs, classes = items
    features = inputs["items"]
    fits = PAIR_BYTES // max(2 * features.nbytes, 1)
    anchors = np.repeat(np.arange(len(classes)), max(1, min(pairs_per_item, fits)))
    partners, same = PairSampler(classes).partners(anchors, np.random.default_rng(seed))
    return {"left": features[anchors], "right": features[partners]}, same


def as_items(inputs: dict[str, np.ndarray], labels: np.ndarray) -> Data:
    """Items as `Data`, from the inputs and labels of rows a stream reads."""
    return inputs, labels


def chunk_pairs(items: Data, key: list[int], seed: int) -> Data:
    """The pairs of a chunk of streamed items (tools/streaming.py): each item the
    left item of one, its partner drawn within the chunk; `key`: the pass number
    and the chunk's first row, so that training pairs change on every pass."""
    return draw_pairs(items, pairs_per_item=1, seed=[seed, *key])


def load_data(
    path, schema: Schema, seed: int = 0, stream: str = "auto"
) -> Data | TableStream:
    """The pairs of a file: those of a pair file, or pairs drawn from its items;
    read from disk a chunk at a time if `stream` (see TrainConfig.stream) says so."""
    if streams(path, stream):
        pairs = functools.partial(chunk_pairs, seed=seed)
        items = held_out_stream(path, schema, as_items)
        return dataclasses.replace(items, pairs=pairs)
    if schema.pairs:
        return read_pairs(path, schema)[0]
    return draw_pairs(read_items(path, schema), seed=seed)


def split_pairs(
    pairs: Data, ids: np.ndarray | None, validation: float, test: float, seed: int
) -> tuple[Data, Data, Data]:
    """Pairs split at random; with item ids, by item, dropping pairs across sides."""
    if ids is None:
        return split(pairs, validation, test, seed)
    names, codes = np.unique(ids, return_inverse=True)
    rank = np.random.default_rng(seed).permutation(len(names))[codes.reshape(-1, 2)]
    bounds = [math.ceil(len(names) * test), math.ceil(len(names) * (test + validation))]
    side = np.digitize(rank, bounds)  # 0: a test item, 1: validation, 2: training
    return tuple(select(pairs, (side == part).all(axis=1)) for part in (2, 1, 0))


def split_items(
    items: Data, validation: float, test: float, config: TrainConfig
) -> tuple[Data, Data, Data]:
    """Training items, and validation and test pairs drawn from their items: split
    by item, or by class (`--split-by class`)."""
    # By class: all items of a class on one side, two classes at least on each (a
    # part's pairs need two).
    by_class = config.split_by == "class"
    classes = len(np.unique(items[1]))
    needed = 2 * (1 + bool(validation) + bool(test))
    if by_class and classes < needed:
        raise DataError(
            f"--split-by class needs {needed} classes, two or more for each part "
            f"of the split; the data has {classes}: add classes, or split by item"
        )
    train_split, validation_items, test_items = split(
        items,
        validation,
        test,
        config.seed,
        groups=items[1] if by_class else None,
        at_least=2 if by_class else 0,
    )
    for name, part, fraction in (
        ("validation", validation_items, validation),
        ("test", test_items, test),
    ):
        if fraction and len(np.unique(part[1])) < 2:
            raise DataError(
                f"the {name} split holds one class only; its pairs need two or "
                f"more: bring more items or classes, or pass --{name}-data"
            )
    validation_split = draw_pairs(validation_items, seed=config.seed)
    test_split = draw_pairs(test_items, seed=config.seed + 1)
    return train_split, validation_split, test_split


def load_splits(config: TrainConfig) -> tuple[Data, Data, Data, Schema]:
    """Training items (or pairs), validation and test pairs, and the data's schema.

    Items are `({"items": features}, classes)`, pairs `({"left", "right"}, same)`.
    Data bigger than memory is streamed: each part is then a TableStream of pairs,
    read from disk a chunk at a time (see tools/streaming.py).

    From `config.data_path`, built-in items if None; `config.validation_path` and
    `config.test_path` files replace their part of the split.
    """
    validation = 0.0 if config.validation_path else 0.1
    test = 0.0 if config.test_path else 0.1
    label = parse_columns(config.columns, ["label"]).get("label", "label")
    if config.data_path is None:
        if config.validation_path or config.test_path:
            raise DataError(
                "--validation-data and --test-data need --data: the built-in data "
                "makes its own"
            )
        input_shape = ModelConfig().input_shape
        schema = Schema(["items"], "label", list(input_shape))
        items = make_synthetic_items(8192, input_shape, seed=config.seed)
        parts = split_items(items, validation, test, config)
    elif streams(config.data_path, config.stream):
        by_class = config.split_by == "class"
        schema, parts = stream_splits(
            config.data_path,
            label,
            config.features,
            Split(config.seed, validation, test, label if by_class else None),
            as_items,
            chunk_pairs,
        )
    else:
        schema = find_schema(config.data_path, label, config.features)
        if schema.pairs:
            pairs, ids = read_pairs(config.data_path, schema)
            if ids is None:
                print(
                    "note: pairs split at random: an item in several pairs can be on "
                    "two sides; left_id and right_id arrays would split by item",
                    file=sys.stderr,
                )
            parts = split_pairs(pairs, ids, validation, test, config.seed)
        else:
            items = read_items(config.data_path, schema)
            parts = split_items(items, validation, test, config)
    train_split, validation_split, test_split = parts
    if config.validation_path:
        validation_split = load_data(
            config.validation_path, schema, config.seed, config.stream
        )
    if config.test_path:
        test_split = load_data(config.test_path, schema, config.seed + 1, config.stream)
    forget_files()  # the arrays hold the data now: free the parsed files
    return train_split, validation_split, test_split, schema
