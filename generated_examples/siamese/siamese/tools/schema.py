"""Where the items (or pairs) sit in a file, and reading them by it."""

import dataclasses
import json
import math
from pathlib import Path

import numpy as np

from siamese.tools.readers import DataError, labels, listing, numbers, read_file

# Items and their class codes, or pairs and their labels (1.0: same class).
Examples = tuple[dict[str, np.ndarray], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Schema:
    """How the training file held its data, and the run's decision threshold.

    `features`: the columns (or `.npz` array) of the items, or ["left", "right"]
    for a pair file; `label`: the column of the classes; `input_shape`: the shape
    of one item; `threshold`: pairs closer than it are called "same", as chosen on
    the validation pairs. Saved in the run directory for evaluate and predict.
    """

    features: list[str]
    label: str
    input_shape: list[int]
    threshold: float | None = None

    @property
    def pairs(self) -> bool:
        return self.features == ["left", "right"]

    def save(self, path) -> None:
        Path(path).write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path) -> "Schema":
        try:
            return cls(**json.loads(Path(path).read_text()))
        except (TypeError, ValueError):  # fields of another version, or not JSON
            raise DataError(
                f"{path} was not written by this version of the project: train again"
            ) from None


def class_codes(path, name: str, array: np.ndarray) -> np.ndarray:
    """The labels in `array` as integer codes; every class needs two items."""
    names, codes, counts = np.unique(
        labels(path, name, array), return_inverse=True, return_counts=True
    )
    if len(names) < 2:
        raise DataError(
            f"{path}: '{name}' holds one class only; pairs need two classes or more"
        )
    if (counts < 2).any():
        single = names[counts < 2].tolist()
        raise DataError(
            f"{path}: '{name}' has a single item of the classes {listing(single)}; "
            "a same-class pair needs two: add items or drop those rows"
        )
    return codes.reshape(-1)


def find_schema(path, label: str, features: str | None) -> Schema:
    """The schema of a training file: pairs, or items and their label column."""
    arrays = read_file(path)
    if "left" in arrays and "right" in arrays:
        return Schema(["left", "right"], "label", list(arrays["left"].shape[1:]))
    columns = item_columns(path, list(arrays), label, features)
    if len(columns) == 1:  # one array: a .npz `items` array, or a single column
        shape = list(arrays[columns[0]].shape[1:]) or [1]
    else:
        shape = [len(columns)]
    return Schema(columns, label, shape)


def item_columns(path, names: list[str], label: str, features: str | None) -> list[str]:
    """The columns of the items among a file's column `names`: `features` (names,
    comma-separated), or all but the label's; the label's is among them too."""
    if features:
        columns = [name.strip() for name in features.split(",")]
    else:
        columns = [name for name in names if name != label]
    for column in [label, *columns]:
        if column not in names:
            raise DataError(
                f"{path} has no column '{column}' (it has {listing(names)}); name "
                "the class column with --columns label=COLUMN, the items' with "
                "--features"
            )
    return columns


def read_items(path, schema: Schema, labelled: bool = True) -> Examples:
    """The items of a file that follows `schema`, and their class codes."""
    arrays = read_file(path)
    count = check_columns(path, arrays, schema, labelled)
    features = item_features(path, schema, arrays)
    if labelled:
        classes = class_codes(path, schema.label, arrays[schema.label])
    else:
        classes = np.zeros(count, "int64")
    return {"items": features}, classes


def check_columns(
    path, arrays: dict[str, np.ndarray], schema: Schema, labelled: bool
) -> int:
    """The number of items in the columns `arrays` of a file, which must hold the
    schema's (and its label's, if `labelled`)."""
    needed = [*schema.features, *([schema.label] if labelled else [])]
    missing = [column for column in needed if column not in arrays]
    if missing:
        raise DataError(
            f"{path} lacks the columns {listing(missing)}; the model reads "
            f"{listing(needed)}"
        )
    count = len(arrays[needed[0]])
    if not count:
        raise DataError(f"{path} has no items")
    return count


def item_features(
    path, schema: Schema, arrays: dict[str, np.ndarray], first_row: int = 0
) -> np.ndarray:
    """The items' features in `arrays` (a file's, from row `first_row` on), of the
    schema's input shape."""
    features = np.stack(
        [
            numbers(path, column, arrays[column], first_row)
            for column in schema.features
        ],
        axis=-1,
    )
    count = len(features)
    if features.size != count * math.prod(schema.input_shape):
        raise DataError(
            f"{path}: its items have shape {features.shape[1:]}, the model takes "
            f"{tuple(schema.input_shape)}"
        )
    return features.reshape(count, *schema.input_shape)


def examples_of(
    path,
    arrays: dict[str, np.ndarray],
    schema: Schema,
    labelled: bool = True,
    group: str | None = None,
    first_row: int = 0,
) -> tuple[dict[str, np.ndarray], np.ndarray | None, np.ndarray | None]:
    """The items in `arrays`, rows of file `path` from row `first_row` on, as a
    stream reads them (tools/streaming.py): by name, their labels (None unless
    `labelled`), and their groups: their labels too if `group` (the label's
    column: a split by class), else None."""
    check_columns(path, arrays, schema, labelled)
    items = {"items": item_features(path, schema, arrays, first_row)}
    found = None
    if labelled:
        found = labels(path, schema.label, arrays[schema.label], first_row)
    return items, found, found if group else None


def read_pairs(
    path, schema: Schema, labelled: bool = True
) -> tuple[Examples, np.ndarray | None]:
    """Pairs from a `.npz` pair file, and the ids of their items if it has them."""
    arrays = read_file(path)
    needed = ["left", "right", *(["label"] if labelled else [])]
    missing = [name for name in needed if name not in arrays]
    if missing:
        raise DataError(f"{path} lacks the arrays {listing(missing)}")
    shape = (len(arrays["left"]), *schema.input_shape)
    inputs = {side: numbers(path, side, arrays[side]) for side in ("left", "right")}
    for side, array in inputs.items():
        if array.shape != shape:
            raise DataError(
                f"{path}: '{side}' has shape {array.shape}, expected {shape}"
            )
    same = arrays["label"].reshape(-1) if labelled else np.zeros(shape[0])
    if not np.isin(same, (0, 1)).all():
        raise DataError(f"{path}: 'label' must hold only 0 (different) and 1 (same)")
    ids = None
    if "left_id" in arrays and "right_id" in arrays:
        ids = np.stack([arrays["left_id"], arrays["right_id"]], axis=1)
    return (inputs, same.astype("float32")), ids
