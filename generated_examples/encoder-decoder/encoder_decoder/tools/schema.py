"""Text pairs as tokens: words, vocabularies, and where the pairs sit in a file."""

import collections
import dataclasses
import json
import re
import sys
from pathlib import Path

import numpy as np

from encoder_decoder.config import END, PAD, RESERVED, UNKNOWN
from encoder_decoder.tools.readers import DataError, labels, listing, read_file

SIDES = ("source", "target")
# A word or a punctuation mark, with the space before it if there is one.
WORD = re.compile(r" ?(?:\w+|[^\w\s])")


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


def texts(path, name: str, array: np.ndarray, first_row: int = 0) -> list[str]:
    """A text column, one string per example; `first_row`: the file's row of
    `array[0]`, for errors."""
    values = labels(path, name, array, first_row)
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


def tokenized(
    path, name: str, array: np.ndarray, text: bool, first_row: int = 0
) -> list[list]:
    """The words of each text of a column, or its token ids; none may be empty."""
    if text:
        rows = [words(value) for value in texts(path, name, array, first_row)]
    else:
        rows = token_ids(path, name, array)
    empty = [row for row, sequence in enumerate(rows) if not sequence]
    if empty:
        raise DataError(
            f"{path}: '{name}' is empty in {len(empty)} rows (first: row "
            f"{first_row + empty[0]}); drop those rows first"
        )
    return rows


def word_counts(sequences: list[list[str]]) -> collections.Counter:
    """How often each word occurs in `sequences`."""
    return collections.Counter(word for sequence in sequences for word in sequence)


def most_frequent(counts: collections.Counter, count: int) -> list[str]:
    """The `count` most frequent words of `counts`; ties in alphabetical order."""
    return sorted(counts, key=lambda word: (-counts[word], word))[:count]


def text_schema(
    columns: dict[str, str],
    counts: dict[str, collections.Counter],
    longest: dict[str, int],
    max_words: int,
) -> Schema:
    """The schema of text columns whose training rows hold words `counts` and at
    most `longest` words (at most --max-length), by side: each vocabulary the
    `max_words` most frequent words."""
    vocabularies = {side: most_frequent(counts[side], max_words) for side in SIDES}
    sizes = {side: len(RESERVED) + len(vocabularies[side]) for side in SIDES}
    lengths = {"source": longest["source"], "target": longest["target"] + 1}
    return Schema(columns, sizes, lengths, vocabularies)


def text_columns(path, columns: dict[str, str], found) -> dict[str, str]:
    """The column of each side (`columns` renames them), each one of a file's
    columns `found`."""
    names = {side: columns.get(side, side) for side in SIDES}
    for column in names.values():
        if column not in found:
            raise DataError(
                f"{path} has no column '{column}' (it has {listing(found)}); name "
                "the columns with --columns source=COLUMN,target=COLUMN"
            )
    return names


def find_schema(
    path, columns: dict[str, str], rows, max_words: int, max_length: int
) -> Schema:
    """The schema of a training file: its two columns (`columns` renames them),
    their vocabularies (or token ids) and lengths (at most `max_length` tokens),
    from its training `rows` only."""
    arrays = read_file(path)
    names = text_columns(path, columns, arrays)
    if not len(rows):
        raise DataError(f"{path} has too few pairs: none is left to train on")
    text = all(is_text(arrays[column]) for column in names.values())
    training = {}
    for side, column in names.items():
        every = tokenized(path, column, arrays[column], text)
        training[side] = [every[row] for row in rows]
    longest = {side: min(max(map(len, training[side])), max_length) for side in SIDES}
    if text:
        counts = {side: word_counts(training[side]) for side in SIDES}
        return text_schema(names, counts, longest, max_words)
    sizes = {
        side: max(1 + max(map(max, training[side])), len(RESERVED)) for side in SIDES
    }
    lengths = {"source": longest["source"], "target": longest["target"] + 1}
    return Schema(names, sizes, lengths)


def read_tokens(
    path, schema: Schema, targets: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """The source tokens of every pair in a file, and its target tokens (end token
    last), each padded with 0 or cut to the schema's length."""
    source, target, cut = tokens_of(path, read_file(path), schema, targets)
    if not len(source):
        raise DataError(f"{path} has no examples")
    if np.any(cut):
        print(cut_note(path, cut.sum(), len(cut), schema), file=sys.stderr)
    return source, target


def cut_note(path, cut: int, count: int, schema: Schema) -> str:
    """The note that `cut` of `count` rows are longer than the schema's lengths."""
    return (
        f"note: {path}: {cut} of {count} rows cut to the model's lengths "
        f"({schema.lengths['source']} source, {schema.lengths['target'] - 1} "
        "target tokens; train's --max-length)"
    )


def tokens_of(
    path,
    arrays: dict[str, np.ndarray],
    schema: Schema,
    targets: bool = True,
    first_row: int = 0,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """The tokens of read_tokens in `arrays`, rows of file `path` from row
    `first_row` on, and whether each row was cut."""
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
        text = schema.vocabularies is not None
        rows = tokenized(path, column, arrays[column], text, first_row)
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
    return tokens["source"], tokens.get("target"), cut


def padded(sequences: list[list[int]], length: int, end: bool) -> np.ndarray:
    """Token sequences as one int32 array, padded with 0 or cut to `length`; with
    `end`, each ends with the end token."""
    tokens = np.full((len(sequences), length), PAD, dtype="int32")
    for row, sequence in enumerate(sequences):
        sequence = sequence[: length - 1] + [END] if end else sequence[:length]
        tokens[row, : len(sequence)] = sequence
    return tokens


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
