"""Reading data files into numpy arrays, with one-line errors that name the file,
the column, the row and the fix; and splitting examples into train, validation
and test parts.
"""

import functools
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow
import pyarrow.csv
import pyarrow.parquet


class DataError(ValueError):
    """A data file that does not match the documented format."""


# The DataErrors a `tf.data` pipeline met reading a stream (tools/batches.py), which
# TensorFlow raises as errors of its own, with a traceback: the commands report them.
MET_IN_PIPELINE: list[DataError] = []


def met_in_pipeline(error: Exception) -> DataError | None:
    """The DataError that made a `tf.data` pipeline fail with `error`, if any."""
    if isinstance(error, DataError) or not MET_IN_PIPELINE:
        return None
    return MET_IN_PIPELINE.pop()


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
    except UnicodeDecodeError:  # pyarrow's, for a column name
        raise not_utf8(path, "its header") from None
    except (OSError, ValueError) as error:  # pyarrow's parse errors are ValueErrors
        raise unreadable(path, error) from None
    return table_arrays(path, table)


def table_arrays(path: Path, table, first_row: int = 0) -> dict[str, np.ndarray]:
    """The columns of a pyarrow table (or record batch) as numpy arrays; its first
    row is row `first_row` of file `path`."""
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pyarrow.types.is_binary(column.type):  # how pyarrow reads non-UTF-8 text
            cells = column.to_pylist()
            text = [(cell or b"").decode("utf-8", errors="replace") for cell in cells]
            row = next((row for row, cell in enumerate(text) if "\ufffd" in cell), 0)
            where = f"'{name}' (row {first_row + row}: {cells[row]!r})"
            raise not_utf8(path, where)
    return {
        name: column.to_numpy(zero_copy_only=False)
        for name, column in zip(table.column_names, table.columns, strict=True)
    }


def unreadable(path: Path, error: Exception) -> DataError:
    """The error for a file that numpy or pyarrow cannot parse."""
    reason = str(error).strip().splitlines()[0]
    if "allow_pickle" in reason:  # numpy will not unpickle object arrays
        reason = "it holds object arrays; save text as str arrays instead"
    return DataError(f"{path}: cannot read it as {path.suffix.lower()}: {reason}")


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


def text_among_numbers(
    path, name: str, array: np.ndarray, text, first_row: int = 0
) -> DataError:
    """The error for the `text` cells of a column of numbers, whose first row is
    row `first_row` of its file."""
    cells = dict.fromkeys(array.reshape(-1)[text.reshape(-1)].tolist())
    rows = np.flatnonzero(text.reshape(len(text), -1).any(axis=1))
    fix = "fix those cells or drop their rows"
    if any("," in str(cell) for cell in cells):
        fix = "write numbers without commas (40.5, not 40,5; 1000, not 1,000)"
    return DataError(
        f"{path}: '{name}' holds numbers but also text, in {len(rows)} rows: "
        f"{listing(cells)} (first: row {first_row + rows[0]}, counting from 0 "
        f"after any header); {fix}"
    )


def numbers(path, name: str, array: np.ndarray, first_row: int = 0) -> np.ndarray:
    """`array` as float32, if it holds only finite numbers (or text of them);
    `first_row`: the file's row of `array[0]`, for errors."""
    if array.dtype.kind in "OUS":
        values, text = parse_numbers(array)
        if mostly_numbers(values, text):  # numbers saved as text
            if text.any():
                raise text_among_numbers(path, name, array, text, first_row)
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
            f"(first: row {first_row + rows[0]}, counting from 0 after any header); "
            "drop or fill them first, e.g. with pandas' dropna() or fillna()"
        )
    return values


def labels(path, name: str, array: np.ndarray, first_row: int = 0) -> np.ndarray:
    """`array` as one label per example: integers (whole floats too), booleans or
    class names; none of them empty (None, NaN, blank text). `first_row`: the
    file's row of `array[0]`, for errors."""
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
            f"{path}: '{name}' is empty in {len(rows)} rows (first: row "
            f"{first_row + rows[0]}, counting from 0 after any header); drop or fill "
            "them first, e.g. with pandas' dropna() or fillna()"
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
    write_blocks([columns], path)


def write_blocks(blocks: Iterable[dict[str, np.ndarray]], path) -> int:
    """Write the rows of `blocks`, each named columns, to a `.csv`, `.parquet` or
    `.npz` file, by its suffix, as they come (a `.npz` file: at the end); return
    the number of rows.

    The rows go to a file beside `path` first, renamed to `path` once complete: if
    a block fails, `path` is left as it was and no partial file stays.
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        rows = write_partial(blocks, partial, path.suffix)
        if not partial.exists():  # no block came
            raise DataError(f"nothing to write to {path}: the data has no rows")
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return rows


def write_partial(
    blocks: Iterable[dict[str, np.ndarray]], partial: Path, suffix: str
) -> int:
    """write_blocks' rows, written to `partial` in the format of `suffix`."""
    if suffix == ".npz":
        kept = list(blocks)
        if kept:
            columns = {
                name: np.concatenate([part[name] for part in kept]) for name in kept[0]
            }
            with open(partial, "wb") as file:
                np.savez(file, **columns)
        return sum(len(next(iter(block.values()))) for block in kept)
    rows, writer = 0, None
    try:
        for columns in blocks:
            table = pyarrow.table(columns)
            if writer is None:
                kind = pyarrow.csv.CSVWriter
                if suffix != ".csv":
                    kind = pyarrow.parquet.ParquetWriter
                writer = kind(str(partial), table.schema)
            writer.write_table(table)
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows


def num_examples(data) -> int:
    """The number of examples in `data`: (inputs by name, targets, ...), or a
    stream's (tools/streaming.py)."""
    if not isinstance(data, tuple):
        return data.num_examples
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
    data: tuple, validation=0.1, test=0.1, seed=0, groups=None, at_least=0
) -> tuple[tuple, tuple, tuple]:
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
