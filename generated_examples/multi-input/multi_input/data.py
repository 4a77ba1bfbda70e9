"""Labelled examples with several inputs: a built-in learnable task, or your own data.

Your own data is a table (CSV or Parquet) or a `.npz` file of named arrays, one row
per example:

    label    the class: integers 0..2, or up to 3 class names
    NAME.*   the columns of input NAME (numbers or text categories), such as
             clinical.age, clinical.weight, scan.p0, scan.p1, ...

    python -m multi_input.train \\
        --data patients.csv --columns label=outcome

`--inputs "clinical=age,weight;scan=p0,p1"` names each input's columns instead. A
`.npz` file holds one float array per input, shape (n, width), and `label`:

    numpy.savez("data.npz", label=label, **inputs)  # inputs: {"clinical": ..., ...}

The model takes as many inputs, of the widths, as the training file has; it
normalizes each itself, with statistics of the training split saved in the model.
"""

import dataclasses
import functools
import json
import math
from pathlib import Path

import numpy as np
import pyarrow
import pyarrow.csv
import pyarrow.parquet

from multi_input.config import ModelConfig, TrainConfig

# The targets of a file: name and number of classes.
TARGETS = {"label": ModelConfig().num_classes}

Data = tuple[dict[str, np.ndarray], np.ndarray]


class DataError(ValueError):
    """A data file that does not match the documented format."""


FORMATS = ".npz, .csv or .parquet"


def read_file(path) -> dict[str, np.ndarray]:
    """The named arrays of a `.npz` file, or the columns of a CSV or Parquet table."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist; pass a {FORMATS} file (see data.py)")
    # `train` reads its file twice (its schema, then its examples): parse it once.
    return read_arrays(path, path.stat().st_mtime_ns, path.stat().st_size)


@functools.lru_cache(maxsize=1)
def read_arrays(path: Path, modified: int, size: int) -> dict[str, np.ndarray]:
    """`read_file` of a file as it was at time `modified`, with `size` bytes."""
    suffix = path.suffix.lower()
    if suffix not in (".npz", ".csv", ".parquet"):
        hint = "; numpy.savez(...) saves named arrays" if suffix == ".npy" else ""
        raise DataError(
            f"{path}: cannot read {suffix or 'unnamed'} files; "
            f"pass a {FORMATS} file{hint}"
        )
    try:
        if suffix == ".npz":
            with np.load(path) as arrays:
                return {name: arrays[name] for name in arrays.files}
        if suffix == ".csv":
            table = pyarrow.csv.read_csv(path)
        else:
            table = pyarrow.parquet.read_table(path)
        columns = {name: table[name] for name in table.column_names}
    except UnicodeDecodeError:  # pyarrow's, for a column name
        raise not_utf8(path, "its header") from None
    except (OSError, ValueError) as error:  # pyarrow's parse errors are ValueErrors
        reason = str(error).strip().splitlines()[0]
        if "allow_pickle" in reason:  # numpy will not unpickle object arrays
            reason = "it holds object arrays; save text as str arrays instead"
        raise DataError(f"{path}: cannot read it as {suffix}: {reason}") from None
    for name, column in columns.items():
        if pyarrow.types.is_binary(column.type):  # how pyarrow reads non-UTF-8 text
            cells = column.to_pylist()
            text = [(cell or b"").decode("utf-8", errors="replace") for cell in cells]
            row = next((row for row, cell in enumerate(text) if "\ufffd" in cell), 0)
            raise not_utf8(path, f"'{name}' (row {row}: {cells[row]!r})")
    return {name: column.to_numpy() for name, column in columns.items()}


def not_utf8(path: Path, where: str) -> DataError:
    """The error for text in another encoding than UTF-8 (Latin-1, Windows-1252)."""
    if path.suffix.lower() != ".csv":
        return DataError(f"{path}: {where} holds bytes; save text as str (UTF-8)")
    return DataError(
        f"{path}: {where} is not UTF-8 text; save the file as UTF-8, e.g. iconv -f "
        f"latin1 -t utf-8 {path.name} > utf8.csv, or pandas' to_csv(..., "
        "encoding='utf-8')"
    )


def forget_files() -> None:
    """Free the parsed files `read_file` keeps, once the data is in its arrays."""
    read_arrays.cache_clear()


def listing(values) -> str:
    """A few of `values`, for an error message."""
    values = list(values)
    shown = ", ".join(repr(value) for value in values[:5])
    return shown + (f" and {len(values) - 5} more" if len(values) > 5 else "")


def parse_numbers(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Text cells as float64 numbers (NaN if empty), and which are not numbers."""
    cells = array.reshape(-1).tolist()
    values = np.full(len(cells), np.nan)
    text = np.zeros(len(cells), bool)
    for index, cell in enumerate(cells):
        if cell is not None and str(cell).strip():
            try:
                values[index] = float(cell)
            except ValueError:
                text[index] = True
    return values.reshape(array.shape), text.reshape(array.shape)


def mostly_numbers(values: np.ndarray, text: np.ndarray) -> bool:
    """Whether parsed text cells (see parse_numbers) are more often numbers than
    not: the column is numbers, the others are errors (see numbers)."""
    return np.count_nonzero(~np.isnan(values)) > np.count_nonzero(text)


def is_numeric(array: np.ndarray) -> bool:
    """Whether a column holds numbers: as such, or as text of mostly numbers."""
    return array.dtype.kind not in "OUS" or mostly_numbers(*parse_numbers(array))


def text_among_numbers(path, name: str, array: np.ndarray, text) -> DataError:
    """The error for the `text` cells of a column of numbers."""
    cells = dict.fromkeys(array.reshape(-1)[text.reshape(-1)].tolist())
    rows = np.flatnonzero(text.reshape(len(text), -1).any(axis=1))
    fix = "fix those cells or drop their rows"
    if any("," in str(cell) for cell in cells):
        fix = "write numbers without commas (40.5, not 40,5; 1000, not 1,000)"
    return DataError(
        f"{path}: '{name}' holds numbers but also text, in {len(rows)} rows: "
        f"{listing(cells)} (first: row {rows[0]}, counting from 0 after any "
        f"header); {fix}"
    )


def numbers(path, name: str, array: np.ndarray) -> np.ndarray:
    """`array` as float32, if it holds only finite numbers (or text of them)."""
    if array.dtype.kind in "OUS":
        values, text = parse_numbers(array)
        if mostly_numbers(values, text):  # numbers saved as text
            if text.any():
                raise text_among_numbers(path, name, array, text)
            array = values
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        kind = "text" if array.dtype.kind in "OUS" else f"{array.dtype} values"
        raise DataError(
            f"{path}: '{name}' holds {kind}, not numbers; encode it as numbers "
            "(categories: one 0/1 column each) or leave it out with --inputs"
        )
    values = array.astype("float32")
    bad = ~np.isfinite(values).reshape(len(values), -1).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DataError(
            f"{path}: '{name}' has NaN or infinite values in {len(rows)} rows "
            f"(first: row {rows[0]}, counting from 0 after any header); "
            "drop or fill them first, e.g. with pandas' dropna() or fillna()"
        )
    return values


def labels(path, name: str, array: np.ndarray) -> np.ndarray:
    """`array` as one label per example: integers (whole floats too), booleans or
    class names; none of them empty (None, NaN, blank text)."""
    if array.size != len(array):
        raise DataError(
            f"{path}: '{name}' has shape {array.shape}; "
            "labels are one value per example, shape (n,)"
        )
    values = array.reshape(-1)
    if values.dtype.kind in "OU":
        empty = [cell is None or not str(cell).strip() for cell in values.tolist()]
    else:
        empty = np.isnan(values) if values.dtype.kind == "f" else []
    rows = np.flatnonzero(empty)
    if len(rows):
        raise DataError(
            f"{path}: '{name}' is empty in {len(rows)} rows (first: row {rows[0]}, "
            "counting from 0 after any header); drop or fill them first, e.g. with "
            "pandas' dropna() or fillna()"
        )
    if values.dtype.kind == "f" and np.all(np.isfinite(values) & (values % 1 == 0)):
        values = values.astype("int64")  # such as 0.0 and 1.0 saved as floats
    if not (np.issubdtype(values.dtype, np.integer) or values.dtype.kind in "bOU"):
        raise DataError(
            f"{path}: '{name}' holds {values.dtype} values; labels are integers, "
            "booleans or class names"
        )
    return values


def parse_columns(text: str | None, names) -> dict[str, str]:
    """`--columns NAME=COLUMN,...` as {name: column}, each name one of `names`."""
    pairs = [pair.partition("=") for pair in (text or "").split(",") if pair.strip()]
    columns = {name.strip(): column.strip() for name, _, column in pairs}
    unknown = sorted(set(columns) - set(names))
    if unknown or any(not column for column in columns.values()):
        raise DataError(
            f"--columns {text!r}: expected NAME=COLUMN pairs, the names being "
            f"{', '.join(names)}"
        )
    return columns


def write_file(columns: dict[str, np.ndarray], path) -> None:
    """Write named columns to a `.csv`, `.parquet` or `.npz` file, by its suffix."""
    path = Path(path)
    if path.suffix == ".npz":
        np.savez(path, **columns)
    elif path.suffix == ".csv":
        pyarrow.csv.write_csv(pyarrow.table(columns), path)
    else:
        pyarrow.parquet.write_table(pyarrow.table(columns), path)


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
    def input_widths(self) -> tuple[tuple[str, int], ...]:
        return tuple(self.widths.items())

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


def category_names(path, name: str, array: np.ndarray) -> list:
    """The categories of a text feature column, by index: its sorted values."""
    names = sorted(set(labels(path, name, array).tolist()))
    if len(names) > min(max(MAX_CATEGORIES, len(array) // 2), MAX_ONE_HOT):
        raise DataError(
            f"{path}: '{name}' holds {len(names)} different texts in {len(array)} "
            "rows, too many to one-hot encode (an id, free text?); leave it out: "
            'name the columns of each input with --inputs "NAME=COL,COL;NAME=COL"'
        )
    return names


def class_indices(path, name: str, array: np.ndarray, classes: list) -> np.ndarray:
    """The labels in `array` as int32 indices into `classes`."""
    found, inverse = np.unique(labels(path, name, array), return_inverse=True)
    index = {value: position for position, value in enumerate(classes)}
    unknown = [value for value in found.tolist() if value not in index]
    if unknown:
        raise DataError(
            f"{path}: '{name}' holds {listing(unknown)}, not among the model's classes "
            f"{listing(classes)} (the training file's): drop those rows, or train on "
            "a file that has them"
        )
    return np.array([index[value] for value in found.tolist()], "int32")[inverse]


def one_hot(path, name: str, array: np.ndarray, categories: list) -> np.ndarray:
    """A text column as one 0/1 column per category of the training file.

    A value the training file did not have is all zeros: the model has not seen it.
    """
    found, inverse = np.unique(labels(path, name, array), return_inverse=True)
    index = {value: position for position, value in enumerate(categories)}
    codes = np.array([index.get(value, -1) for value in found.tolist()])[inverse]
    encoded = np.zeros((len(codes), len(categories)), "float32")
    known = np.flatnonzero(codes >= 0)
    encoded[known, codes[known]] = 1.0
    return encoded


def input_columns(path, columns: list[str], inputs: str | None) -> dict[str, list[str]]:
    """The columns of each model input, as `--inputs "NAME=COL,COL;NAME=COL"` names
    them; by default a table's column `NAME.anything` belongs to input NAME, and
    each array of a `.npz` file is an input of its own."""
    grouped = {}
    if inputs:
        for text in inputs.split(";"):
            name, _, names = (part.strip() for part in text.partition("="))
            grouped[name] = [column.strip() for column in names.split(",")]
            if not name.isidentifier() or not all(grouped[name]):
                raise DataError(
                    f'--inputs {inputs!r}: expected "NAME=COL,COL;NAME=COL", each '
                    "NAME of letters, digits and _"
                )
    else:
        loose = [column for column in columns if "." not in column]
        if loose and Path(path).suffix.lower() != ".npz":
            raise DataError(
                f"{path}: the columns {listing(loose)} belong to no input; name them "
                "NAME.COLUMN (clinical.age, scan.p0: input NAME), or name the columns "
                'of each input with --inputs "NAME=COL,COL;NAME=COL"'
            )
        for column in columns:
            grouped.setdefault(column.split(".")[0], []).append(column)
        bad = [name for name in grouped if not name.isidentifier()]
        if bad:
            raise DataError(
                f"{path}: {listing(bad)} cannot name an input (letters, digits and _ "
                'can); name the inputs with --inputs "NAME=COL,COL;NAME=COL"'
            )
    if len(grouped) < 2:
        raise DataError(
            f"{path}: the model reads two inputs or more, found {listing(grouped)}; "
            'name the columns of each with --inputs "NAME=COL,COL;NAME=COL"'
        )
    return grouped


def find_schema(
    path, columns: dict[str, str], inputs: str | None, group: str | None
) -> Schema:
    """The schema of a training file: its target columns (`columns` renames them),
    the columns of each input (`inputs`: see input_columns; by default all others
    but `group`) and the classes of its labels."""
    arrays = read_file(path)
    targets = {name: columns.get(name, name) for name in TARGETS}
    taken = {*targets.values(), group}
    others = [name for name in arrays if name not in taken]
    grouped = input_columns(path, others, inputs)
    features = [column for names in grouped.values() for column in names]
    for column in [*targets.values(), *features, *([group] if group else [])]:
        if column not in arrays:
            raise DataError(
                f"{path} has no column '{column}' (it has {listing(arrays)}); "
                "name the columns with --columns TARGET=COLUMN or --inputs"
            )
    # Text columns are categories: one 0/1 feature for each value found here; a
    # column of numbers saved as text is numbers (see numbers).
    categories = {
        column: category_names(path, column, arrays[column])
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
    arrays = read_file(path)
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
                    one_hot(path, column, arrays[column], schema.categories[column])
                    if column in schema.categories
                    else numbers(path, column, arrays[column]).reshape(count, -1)
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
            values[name] = class_indices(path, column, arrays[column], classes)
        else:
            values[name] = numbers(path, column, arrays[column]).reshape(count, -1)
            if values[name].shape[1] != 1:
                raise DataError(
                    f"{path}: '{column}' has shape {arrays[column].shape}; "
                    "a regression target is one number per example"
                )
    return inputs, values, arrays[group] if group else None


def num_examples(data: Data) -> int:
    inputs = data[0]
    return len(next(iter(inputs.values())))


def select(data, rows):
    """The examples `rows` of `data`, however tuples and dicts nest its arrays."""
    if isinstance(data, tuple):
        return tuple(select(value, rows) for value in data)
    if isinstance(data, dict):
        return {name: select(value, rows) for name, value in data.items()}
    return data[rows]


def split(
    data: Data, validation=0.1, test=0.1, seed=0, groups=None, at_least=0
) -> tuple[Data, Data, Data]:
    """Shuffle examples into train, validation and test parts.

    With `groups` (one key per example, such as a patient id), the groups are
    shuffled instead: all examples of a group land in the same part. A validation
    or test part, where asked for, takes `at_least` examples (or groups).
    """
    if groups is None:
        keys = np.arange(num_examples(data))
    else:
        keys = np.unique(groups, return_inverse=True)[1].reshape(-1)
    count = int(keys.max()) + 1 if len(keys) else 0
    rank = np.random.default_rng(seed).permutation(count)[keys]
    num_test, num_validation = (
        max(math.ceil(count * part), at_least) if part else 0
        for part in (test, validation)
    )
    return (
        select(data, rank >= num_test + num_validation),
        select(data, (rank >= num_test) & (rank < num_test + num_validation)),
        select(data, rank < num_test),
    )


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


def load_data(path, schema: Schema) -> Data:
    """The examples of a file that follows `schema` (the training file's)."""
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
    `config.validation_path` or `config.test_path` file replaces that part.
    """
    groups = None
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
    else:
        columns = parse_columns(config.columns, TARGETS)
        schema = find_schema(
            config.data_path, columns, config.inputs, config.group_column
        )
        inputs, targets, groups = read_examples(
            config.data_path, schema, group=config.group_column
        )
    train_split, validation_split, test_split = split(
        as_data(inputs, targets),
        validation=0.0 if config.validation_path else 0.1,
        test=0.0 if config.test_path else 0.1,
        seed=config.seed,
        groups=groups,
    )
    if config.validation_path:
        validation_split = load_data(config.validation_path, schema)
    if config.test_path:
        test_split = load_data(config.test_path, schema)
    forget_files()  # the arrays hold the data now: free the parsed files
    return train_split, validation_split, test_split, schema
