"""Labelled items and pairs for the siamese network: built-in, or your own data.

Labels follow one convention across this project (data, loss, metric, README):
1 means both items of a pair are of the same class, 0 means they are not.

Your own data is best given as labelled items, from which the project draws its
pairs: a table (CSV or Parquet) with one row per item, or a `.npz` file.

    label  the item's class: integers or names (another column: --columns label=X)
    items  in a table, the other columns (or --features a,b,c): numbers, no NaN;
           in a `.npz` file, an array of shape (n, 32)

    numpy.savez("items.npz", items=items, label=label)

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
import json
import math
import sys
from pathlib import Path

import numpy as np
import pyarrow
import pyarrow.csv
import pyarrow.parquet

from siamese.config import ModelConfig, TrainConfig

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
            "(categories: one 0/1 column each) or leave it out with --features"
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

        An anchor alone in its class always gets a partner of another class.
        """
        start, size = self.start[anchors], self.size[anchors]
        same = (rng.random(len(anchors)) < 0.5) & (size > 1)
        # Same class: another member of it, never the anchor itself.
        step = rng.integers(1, np.maximum(size, 2))
        member = self.order[start + (self.rank[anchors] - start + step) % size]
        # Another class: any item outside the anchor's class.
        other = rng.integers(0, len(self.classes) - size)
        outsider = self.order[np.where(other < start, other, other + size)]
        return np.where(same, member, outsider), same.astype("float32")


def draw_pairs(items: Data, pairs_per_item: int = 4, seed: int = 0) -> Data:
    """Pairs drawn once: each item is the left item of `pairs_per_item` pairs."""
    inputs, classes = items
    anchors = np.repeat(np.arange(len(classes)), pairs_per_item)
    partners, same = PairSampler(classes).partners(anchors, np.random.default_rng(seed))
    features = inputs["items"]
    return {"left": features[anchors], "right": features[partners]}, same


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
    if features:
        columns = [name.strip() for name in features.split(",")]
    else:  # `file`: the file names of an image folder's images
        columns = [name for name in arrays if name not in (label, "file")]
    for column in [label, *columns]:
        if column not in arrays:
            raise DataError(
                f"{path} has no column '{column}' (it has {listing(arrays)}); name "
                "the class column with --columns label=COLUMN, the items' with "
                "--features"
            )
    if len(columns) == 1:  # one array: a .npz `items` array, or a single column
        shape = list(arrays[columns[0]].shape[1:])
    else:
        shape = [len(columns)]
    return Schema(columns, label, shape)


def read_items(path, schema: Schema, labelled: bool = True) -> Data:
    """The items of a file that follows `schema`, and their class codes."""
    arrays = read_file(path)
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
    features = np.stack(
        [numbers(path, column, arrays[column]) for column in schema.features],
        axis=-1,
    )
    if features.size != count * math.prod(schema.input_shape):
        raise DataError(
            f"{path}: its items have shape {features.shape[1:]}, the model takes "
            f"{tuple(schema.input_shape)}"
        )
    features = features.reshape(count, *schema.input_shape)
    if labelled:
        classes = class_codes(path, schema.label, arrays[schema.label])
    else:
        classes = np.zeros(count, "int64")
    return {"items": features}, classes


def read_pairs(
    path, schema: Schema, labelled: bool = True
) -> tuple[Data, np.ndarray | None]:
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


def load_data(path, schema: Schema, seed: int = 0) -> Data:
    """The pairs of a file: those of a pair file, or pairs drawn from its items."""
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


def load_splits(config: TrainConfig) -> tuple[Data, Data, Data, Schema]:
    """Training items (or pairs), validation and test pairs, and the data's schema.

    Items are `({"items": features}, classes)`, pairs `({"left", "right"}, same)`.

    From `config.data_path`, built-in items if None; `config.validation_path` and
    `config.test_path` files replace their part of the split.
    """
    validation = 0.0 if config.validation_path else 0.1
    test = 0.0 if config.test_path else 0.1
    if config.data_path is None:
        if config.validation_path or config.test_path:
            raise DataError(
                "--validation-data and --test-data need --data: the built-in data "
                "makes its own"
            )
        input_shape = ModelConfig().input_shape
        schema = Schema(["items"], "label", list(input_shape))
        items = make_synthetic_items(8192, input_shape, seed=config.seed)
    else:
        label = parse_columns(config.columns, ["label"]).get("label", "label")
        schema = find_schema(config.data_path, label, config.features)
        if schema.pairs:
            pairs, ids = read_pairs(config.data_path, schema)
            if ids is None:
                print(
                    "note: pairs split at random: an item in several pairs can be on "
                    "two sides; left_id and right_id arrays would split by item",
                    file=sys.stderr,
                )
            train_split, validation_split, test_split = split_pairs(
                pairs, ids, validation, test, config.seed
            )
        else:
            items = read_items(config.data_path, schema)
    if not schema.pairs:
        # By class: all items of a class on one side, two classes at least on
        # each (a part's pairs need two).
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
    if config.validation_path:
        validation_split = load_data(config.validation_path, schema, config.seed)
    if config.test_path:
        test_split = load_data(config.test_path, schema, config.seed + 1)
    forget_files()  # the arrays hold the data now: free the parsed files
    return train_split, validation_split, test_split, schema
