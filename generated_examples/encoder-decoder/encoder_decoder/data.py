"""Sequence pairs for the encoder-decoder: a built-in learnable task, or your own data.

Your own data is a table (CSV or Parquet) of text pairs, one row per example:

    source  the text to read, such as a sentence in English
    target  the text to write, such as its translation

    python -m encoder_decoder.train \\
        --data sentences.csv --columns source=english,target=french

Text is lowercased and cut into words and punctuation marks, each keeping the
space before it, so that the decoded tokens join back into text. Each side gets its
own vocabulary, the most frequent words of the training split (at most
--max-words); a word outside it reads as the unknown token. Sequences are as long
as the longest of the training split, at most --max-length tokens: longer ones are
cut, with a note saying how many. A `.npz` file holds `source` and `target`
as text, shape (n,), or as your own token ids, shape (n, length): integers from 1,
0 for padding.

The model reads tokens: 0 pads, 1 starts the decoder, 2 ends a target, 3 is unknown;
words (or your ids) take 4 on. The decoder's input, the target shifted right with
the start token first, is derived from `target`.
"""

import collections
import dataclasses
import functools
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pyarrow
import pyarrow.csv
import pyarrow.parquet

from encoder_decoder.config import ModelConfig, TrainConfig
from encoder_decoder.model import END, PAD, RESERVED, START, UNKNOWN

SIDES = ("source", "target")
# A word or a punctuation mark, with the space before it if there is one.
WORD = re.compile(r" ?(?:\w+|[^\w\s])")

# Inputs, targets and the weight of each target step.
Data = tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]


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
    """How the model reads a file's pairs, as found in the training file.

    `columns`: the column of each side; `sizes`: the tokens of each side;
    `lengths`: tokens per source and per target (its end token included), longer
    ones are cut; `vocabularies`: the words of each side, from token 4 on, each with
    the space before it (None for token ids). Saved in the run directory, so that
    evaluate and predict read alike.
    """

    columns: dict[str, str]
    sizes: dict[str, int]
    lengths: dict[str, int]
    vocabularies: dict[str, list[str]] | None = None

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


def normalized(text: str) -> str:
    """Text as the model writes it: lowercase, words one space apart."""
    return " ".join(text.lower().split())


def words(text: str) -> list[str]:
    """Text as the model reads it: lowercased words and punctuation marks, each
    with the space before it (the first one too): `joined` gives the text back."""
    return WORD.findall(" " + normalized(text))


def joined(tokens: list[str]) -> str:
    """The text of a sequence of words, as `normalized` writes it."""
    return "".join(tokens).lstrip()


def texts(path, name: str, array: np.ndarray) -> list[str]:
    """A text column, one string per example."""
    values = labels(path, name, array)
    if values.dtype.kind not in "OU" or not all(isinstance(v, str) for v in values):
        raise DataError(
            f"{path}: '{name}' holds {values.dtype} values; it must be text, or in a "
            ".npz file token ids of shape (n, length)"
        )
    return values.tolist()


def token_ids(path, name: str, array: np.ndarray) -> list[list[int]]:
    """Your own token ids (0 for padding) as the model's tokens, padding dropped."""
    if (
        array.ndim != 2
        or not np.issubdtype(array.dtype, np.integer)
        or array.min(initial=0) < 0
    ):
        raise DataError(
            f"{path}: '{name}' must be text, or integer token ids from 1 (0: "
            f"padding) of shape (n, length), not {array.dtype} of shape {array.shape}"
        )
    return [[int(i) + len(RESERVED) - 1 for i in row if i > 0] for row in array]


def is_text(array: np.ndarray) -> bool:
    return array.ndim == 1 and array.dtype.kind in "OU"


def tokenized(path, name: str, array: np.ndarray, text: bool) -> list[list]:
    """The words of each text of a column, or its token ids; none may be empty."""
    if text:
        rows = [words(value) for value in texts(path, name, array)]
    else:
        rows = token_ids(path, name, array)
    empty = [row for row, sequence in enumerate(rows) if not sequence]
    if empty:
        raise DataError(
            f"{path}: '{name}' is empty in {len(empty)} rows (first: row {empty[0]}); "
            "drop those rows first"
        )
    return rows


def most_frequent(sequences: list[list[str]], count: int) -> list[str]:
    """The `count` most frequent words of `sequences`; ties in alphabetical order."""
    counts = collections.Counter(word for sequence in sequences for word in sequence)
    return sorted(counts, key=lambda word: (-counts[word], word))[:count]


def find_schema(
    path, columns: dict[str, str], rows, max_words: int, max_length: int
) -> Schema:
    """The schema of a training file: its two columns (`columns` renames them),
    their vocabularies (or token ids) and lengths (at most `max_length` tokens),
    from its training `rows` only."""
    arrays = read_file(path)
    names = {side: columns.get(side, side) for side in SIDES}
    for column in names.values():
        if column not in arrays:
            raise DataError(
                f"{path} has no column '{column}' (it has {listing(arrays)}); name "
                "the columns with --columns source=COLUMN,target=COLUMN"
            )
    if not len(rows):
        raise DataError(f"{path} has too few pairs: none is left to train on")
    text = all(is_text(arrays[column]) for column in names.values())
    training = {}
    for side, column in names.items():
        every = tokenized(path, column, arrays[column], text)
        training[side] = [every[row] for row in rows]
    if text:
        vocabularies = {
            side: most_frequent(training[side], max_words) for side in SIDES
        }
        sizes = {side: len(RESERVED) + len(vocabularies[side]) for side in SIDES}
    else:
        vocabularies = None
        sizes = {
            side: max(1 + max(map(max, training[side])), len(RESERVED))
            for side in SIDES
        }
    longest = {side: min(max(map(len, training[side])), max_length) for side in SIDES}
    lengths = {"source": longest["source"], "target": longest["target"] + 1}
    return Schema(names, sizes, lengths, vocabularies)


def read_tokens(
    path, schema: Schema, targets: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """The source tokens of every pair in a file, and its target tokens (end token
    last), each padded with 0 or cut to the schema's length."""
    arrays = read_file(path)
    sides = SIDES if targets else SIDES[:1]
    needed = [schema.columns[side] for side in sides]
    missing = [column for column in needed if column not in arrays]
    if missing:
        raise DataError(
            f"{path} lacks the columns {listing(missing)}; "
            "the model reads the training file's"
        )
    tokens, cut = {}, False
    for side in sides:
        column = schema.columns[side]
        rows = tokenized(path, column, arrays[column], schema.vocabularies is not None)
        if schema.vocabularies is not None:
            index = {
                word: token
                for token, word in enumerate(schema.vocabularies[side], len(RESERVED))
            }
            rows = [[index.get(word, UNKNOWN) for word in row] for row in rows]
        end = side == "target"
        tokens[side] = padded(rows, schema.lengths[side], end)
        too_large = tokens[side].max(initial=0) >= schema.sizes[side]
        if too_large:
            raise DataError(
                f"{path}: '{column}' has token ids above the training file's "
                f"({schema.sizes[side] - len(RESERVED)})"
            )
        lengths = np.array([len(row) for row in rows])
        cut = cut | (lengths > schema.lengths[side] - end)
    if not len(tokens["source"]):
        raise DataError(f"{path} has no examples")
    if np.any(cut):
        print(
            f"note: {path}: {cut.sum()} of {len(cut)} rows cut to the model's lengths "
            f"({schema.lengths['source']} source, {schema.lengths['target'] - 1} "
            "target tokens; train's --max-length)",
            file=sys.stderr,
        )
    return tokens["source"], tokens.get("target")


def padded(sequences: list[list[int]], length: int, end: bool) -> np.ndarray:
    """Token sequences as one int32 array, padded with 0 or cut to `length`; with
    `end`, each ends with the end token."""
    tokens = np.full((len(sequences), length), PAD, dtype="int32")
    for row, sequence in enumerate(sequences):
        sequence = sequence[: length - 1] + [END] if end else sequence[:length]
        tokens[row, : len(sequence)] = sequence
    return tokens


def as_data(source: np.ndarray, target: np.ndarray) -> Data:
    """Inputs for teacher forcing, the target, and the weight of each target step.

    The decoder reads the target shifted right: the start token first, the end token
    never read (it ends the sequence). Padded steps weigh 0 in the loss and metrics.
    """
    start = np.full((len(target), 1), START, dtype="int32")
    decoder_input = np.concatenate([start, target[:, :-1]], axis=1)
    decoder_input[decoder_input == END] = PAD
    weights = (target != PAD).astype("float32")
    return {"source": source, "decoder_input": decoder_input}, target, weights


def make_synthetic_data(num_examples, vocab_size, sequence_length, seed=0) -> Data:
    """Random word sequences to be reversed: the target is the source backwards."""
    rng = np.random.default_rng(seed)
    shape = (num_examples, sequence_length)
    source = rng.integers(len(RESERVED), vocab_size, size=shape).astype("int32")
    end = np.full((num_examples, 1), END, dtype="int32")
    return as_data(source, np.concatenate([source[:, ::-1], end], axis=1))


def built_in_schema() -> Schema:
    """The schema of the built-in data: token ids, no vocabularies."""
    config = ModelConfig()
    return Schema(
        {side: side for side in SIDES},
        {"source": config.source_vocab_size, "target": config.target_vocab_size},
        {"source": config.sequence_length, "target": config.sequence_length + 1},
    )


def load_data(path, schema: Schema) -> Data:
    """The pairs of a file that follows `schema` (the training file's)."""
    return as_data(*read_tokens(path, schema))


def load_splits(config: TrainConfig) -> tuple[Data, Data, Data, Schema]:
    """Train, validation and test data, and the schema of their files.

    From `config.data_path` (built-in data if None), split at random by pair; a
    `config.validation_path` or `config.test_path` file replaces that part.
    """
    parts = {
        "validation": 0.0 if config.validation_path else 0.1,
        "test": 0.0 if config.test_path else 0.1,
    }
    if config.data_path is None:
        if config.validation_path or config.test_path:
            raise DataError(
                "--validation-data and --test-data need --data: the built-in data "
                "makes its own"
            )
        schema = built_in_schema()
        model_config = ModelConfig()
        data = make_synthetic_data(
            8192,
            model_config.source_vocab_size,
            model_config.sequence_length,
            seed=config.seed,
        )
        train_split, validation_split, test_split = split(
            data, **parts, seed=config.seed
        )
    else:
        columns = parse_columns(config.columns, SIDES)
        # The vocabularies come from the training part alone: split rows first.
        count = len(next(iter(read_file(config.data_path).values()), []))
        rows = [
            part[0]["row"]
            for part in split(({"row": np.arange(count)},), **parts, seed=config.seed)
        ]
        schema = find_schema(
            config.data_path, columns, rows[0], config.max_words, config.max_length
        )
        data = load_data(config.data_path, schema)
        train_split, validation_split, test_split = (select(data, r) for r in rows)
    if config.validation_path:
        validation_split = load_data(config.validation_path, schema)
    if config.test_path:
        test_split = load_data(config.test_path, schema)
    forget_files()  # the arrays hold the data now: free the parsed files
    return train_split, validation_split, test_split, schema


def as_text(tokens: np.ndarray, schema: Schema, side: str = "target") -> list[str]:
    """Token sequences as text, each up to its end token: words joined as they were
    spaced ([unk] for a word outside the vocabulary), or your ids joined by spaces."""
    lines = []
    for row in tokens.tolist():
        row = row[: row.index(END)] if END in row else row
        row = [token for token in row if token != PAD]
        if schema.vocabularies is None:
            lines.append(" ".join(str(token - len(RESERVED) + 1) for token in row))
        else:
            vocabulary = [f" {word}" for word in RESERVED] + schema.vocabularies[side]
            lines.append(joined([vocabulary[token] for token in row]))
    return lines
