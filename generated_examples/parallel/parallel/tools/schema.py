"""Where the examples sit in a table or `.npz` file, and reading them by it.

`find_schema` finds the columns of each input and target in the training file and
the classes of its labels; `read_examples` reads any file the same way.
"""

import dataclasses
import json
from pathlib import Path

import numpy as np

from parallel.config import TARGETS
from parallel.tools.readers import (
    DataError,
    is_numeric,
    labels,
    listing,
    numbers,
    read_file,
)


@dataclasses.dataclass(frozen=True)
class Schema:
    """Where the model's data sits in a file, as found in the training file.

    `inputs`: the columns (or `.npz` arrays) of each model input, in order;
    `widths`: the values per example each input adds up to; `targets`: the column
    of each target; `classes`: the classes of each classification target, by index;
    `categories`: those of each text feature column, one-hot encoded.
    Saved in the run directory, so that evaluate and predict read files alike.
    """

    inputs: dict[str, list[str]]
    widths: dict[str, int]
    targets: dict[str, str]
    classes: dict[str, list]
    categories: dict[str, list] = dataclasses.field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int]:
        return (self.widths["features"],)

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


# A text feature column is categories, one 0/1 feature each, unless it has more
# different values than MAX_CATEGORIES and than half its rows (an id, free text),
# or more than MAX_ONE_HOT: then it is refused.
MAX_CATEGORIES = 20
MAX_ONE_HOT = 1000


def class_names(path, name: str, array: np.ndarray) -> list:
    """The classes of a target, by index: the sorted labels (integers or class
    names) found in `array`."""
    names = sorted(set(labels(path, name, array).tolist()))
    if len(names) < 2:
        raise DataError(
            f"{path}: '{name}' holds a single class ({listing(names)}); a classifier "
            "needs examples of two classes or more"
        )
    return names


def category_names(path, name: str, array: np.ndarray, rows: int) -> list:
    """The categories of a text feature column of `rows` rows, by index: the
    sorted values found in `array`."""
    names = sorted(set(labels(path, name, array).tolist()))
    if len(names) > min(max(MAX_CATEGORIES, rows // 2), MAX_ONE_HOT):
        raise DataError(
            f"{path}: '{name}' holds {len(names)} different texts in {rows} "
            "rows, too many to one-hot encode (an id, free text?); leave it out: "
            "name the feature columns with --features a,b,c"
        )
    return names


def class_indices(
    path, name: str, array: np.ndarray, classes: list, first_row: int = 0
) -> np.ndarray:
    """The labels in `array` as int32 indices into `classes`."""
    found, inverse = np.unique(
        labels(path, name, array, first_row), return_inverse=True
    )
    index = {value: position for position, value in enumerate(classes)}
    unknown = [value for value in found.tolist() if value not in index]
    if unknown:
        raise DataError(
            f"{path}: '{name}' holds {listing(unknown)}, not among the model's classes "
            f"{listing(classes)} (the training file's): drop those rows, or train on "
            "a file that has them"
        )
    return np.array([index[value] for value in found.tolist()], "int32")[inverse]


def one_hot(
    path, name: str, array: np.ndarray, categories: list, first_row: int = 0
) -> np.ndarray:
    """A text column as one 0/1 column per category of the training file.

    A value the training file did not have is all zeros: the model has not seen it.
    """
    found, inverse = np.unique(
        labels(path, name, array, first_row), return_inverse=True
    )
    index = {value: position for position, value in enumerate(categories)}
    codes = np.array([index.get(value, -1) for value in found.tolist()])[inverse]
    encoded = np.zeros((len(codes), len(categories)), "float32")
    known = np.flatnonzero(codes >= 0)
    encoded[known, codes[known]] = 1.0
    return encoded


def input_columns(
    path, columns: list[str], features: str | None
) -> dict[str, list[str]]:
    """The columns of the model's one input, `features`: those `features` names
    (comma-separated), else every column in `columns`."""
    if features:
        return {"features": [name.strip() for name in features.split(",")]}
    if not columns:
        raise DataError(f"{path} has no feature columns besides the targets")
    return {"features": columns}


def find_schema(
    path, columns: dict[str, str], inputs: str | None, group: str | None
) -> Schema:
    """The schema of a training file: its target columns (`columns` renames them),
    the columns of each input (`inputs`: see input_columns; by default all others
    but `group`) and the classes of its labels."""
    arrays = read_file(path)
    count = len(next(iter(arrays.values()), []))
    return schema_of(path, arrays, count, columns, inputs, group)


def schema_of(
    path,
    arrays: dict[str, np.ndarray],
    rows: int,
    columns: dict[str, str],
    inputs: str | None,
    group: str | None,
) -> Schema:
    """The schema (see find_schema) of a file of `rows` rows, whose columns are
    `arrays`: all their values, or (see tools/streaming.py) for a streamed file the
    distinct values of its label and text columns."""
    targets = {name: columns.get(name, name) for name in TARGETS}
    taken = {*targets.values(), group}
    others = [name for name in arrays if name not in taken]
    grouped = input_columns(path, others, inputs)
    features = [column for names in grouped.values() for column in names]
    for column in [*targets.values(), *features, *([group] if group else [])]:
        if column not in arrays:
            raise DataError(
                f"{path} has no column '{column}' (it has {listing(arrays)}); "
                "name the columns with --columns TARGET=COLUMN or --features"
            )
    # Text columns are categories: one 0/1 feature for each value found here; a
    # column of numbers saved as text is numbers (see numbers).
    categories = {
        column: category_names(path, column, arrays[column], rows)
        for column in features
        if not is_numeric(arrays[column])
    }
    widths = {
        name: sum(
            (
                len(categories[column])
                if column in categories
                else int(np.prod(arrays[column].shape[1:]))
            )
            for column in names
        )
        for name, names in grouped.items()
    }
    classes = {
        name: class_names(path, targets[name], arrays[targets[name]])
        for name, num_classes in TARGETS.items()
        if num_classes
    }
    return Schema(grouped, widths, targets, classes, categories)


def read_examples(
    path, schema: Schema, targets: bool = True, group: str | None = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray | None]:
    """Every example of a file: each input's features (float32, by input name), the
    targets and the group."""
    return examples_of(path, read_file(path), schema, targets, group)


def examples_of(
    path,
    arrays: dict[str, np.ndarray],
    schema: Schema,
    targets: bool = True,
    group: str | None = None,
    first_row: int = 0,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray | None]:
    """The examples (see read_examples) in `arrays`, rows of file `path` from row
    `first_row` on."""
    needed = [
        *(column for names in schema.inputs.values() for column in names),
        *(schema.targets.values() if targets else []),
        *([group] if group else []),
    ]
    missing = [column for column in needed if column not in arrays]
    if missing:
        raise DataError(
            f"{path} lacks the columns {listing(missing)}; "
            f"the model reads {listing(needed)}"
        )
    count = len(arrays[needed[0]])
    if not count:
        raise DataError(f"{path} has no examples")
    for column in needed:
        if len(arrays[column]) != count:
            raise DataError(
                f"{path}: '{column}' has {len(arrays[column])} rows, "
                f"'{needed[0]}' {count}"
            )
    inputs = {}
    for name, names in schema.inputs.items():
        inputs[name] = np.concatenate(
            [
                (
                    one_hot(
                        path,
                        column,
                        arrays[column],
                        schema.categories[column],
                        first_row,
                    )
                    if column in schema.categories
                    else numbers(path, column, arrays[column], first_row).reshape(
                        count, -1
                    )
                )
                for column in names
            ],
            axis=1,
        )
        if inputs[name].shape[1] != schema.widths[name]:
            raise DataError(
                f"{path}: {listing(names)} make {inputs[name].shape[1]} values per "
                f"example, the model's input '{name}' takes {schema.widths[name]}"
            )
    values = {}
    for name, column in (schema.targets.items() if targets else []):
        if name in schema.classes:
            classes = schema.classes[name]
            values[name] = class_indices(
                path, column, arrays[column], classes, first_row
            )
        else:
            values[name] = numbers(path, column, arrays[column], first_row).reshape(
                count, -1
            )
            if values[name].shape[1] != 1:
                raise DataError(
                    f"{path}: '{column}' has shape {arrays[column].shape}; "
                    "a regression target is one number per example"
                )
    return inputs, values, arrays[group] if group else None
