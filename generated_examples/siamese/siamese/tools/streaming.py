"""Labelled items bigger than memory, read from disk a chunk at a time.

`train` streams its `--data` when it is a folder or a glob of files, or files over
STREAM_ABOVE bytes in all (`--stream on` or `--stream off` decides instead). A
stream reads pieces: the row groups of Parquet files, whole CSV files. Before the
first step it reads them once, for the rows of each part and the mean and
variance of the training items (what `adapt` learns); the pass checks every cell,
as reading a file whole does (`--split-by class` reads the labels before). Then:

- the split is by a hash of the seed and the row number: the parts never overlap,
  and every run and every process splits alike; the parts are about 80/10/10 of
  the rows, not exactly. With `--split-by class`, by a hash of the label, whose
  bounds give validation and test a tenth of the classes each, two at least;
- each item of a part is the left item of one pair, its partner drawn among the
  part's items of the same chunk (CHUNK_ROWS rows of a Parquet row group, or
  CSV_BLOCK_BYTES of a CSV file), of its class or not, half and half: for
  training a new partner on every pass, for validation and test the same one;
- training reads its pieces in a new order on every pass, and mixes their rows
  through a shuffle buffer of SHUFFLE_BYTES.
"""

import dataclasses
import functools
import hashlib
import itertools
import math
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import keras
import numpy as np
import pyarrow
import pyarrow.csv
import pyarrow.parquet

from siamese.tools.readers import (
    DataError,
    labels,
    listing,
    num_examples,
    select,
    table_arrays,
    unreadable,
)
from siamese.tools.schema import Schema, examples_of, item_columns

# `--stream auto` streams files bigger than this in all.
STREAM_ABOVE = 256 * 2**20
SUFFIXES = (".parquet", ".csv")
# Rows read at a time from a Parquet row group; bytes from a CSV file.
CHUNK_ROWS = 65_536
CSV_BLOCK_BYTES = 16 * 2**20
# The shuffle buffer: training examples mixed before they are cut into batches,
# handed on in blocks of BLOCK_BATCHES batches (as in tools/batches.py).
SHUFFLE_BYTES = 32 * 2**20
BLOCK_BATCHES = 256
# A part read in order (validation, test) is kept in memory if it fits in this.
CACHE_BYTES = 64 * 2**20
PARTS = ("train", "validation", "test")


def data_files(path) -> list[Path]:
    """The files of `--data`: a file, the .parquet or .csv files of a folder, or
    those a glob pattern (`shards/part-*.parquet`) names."""
    text = str(path)
    if Path(text).is_dir():
        files = sorted(
            file
            for file in Path(text).iterdir()
            if file.suffix.lower() in SUFFIXES and not file.name.startswith(".")
        )
    elif any(character in text for character in "*?["):
        root = Path(text).anchor or "."
        files = sorted(Path(root).glob(str(Path(text).relative_to(root))))
    else:
        return [Path(text)]
    if not files:
        raise DataError(f"{path} names no .parquet or .csv files")
    suffixes = sorted({file.suffix.lower() for file in files})
    if len(suffixes) > 1:
        raise DataError(
            f"{path} holds {listing(suffixes)} files: stream one format at a time"
        )
    return files


def streams(path, setting: str = "auto") -> bool:
    """Whether `path` is streamed: `setting` is `--stream` (auto, on or off)."""
    files = data_files(path)
    several = len(files) > 1 or Path(path).is_dir()
    if setting == "off" and several:
        raise DataError(
            f"{path}: a folder or a glob of files is always streamed; leave out "
            "--stream off"
        )
    if setting == "off" or not files[0].is_file():
        return False  # reading the file whole says what is wrong with it
    if files[0].suffix.lower() not in SUFFIXES:
        if setting == "on":
            raise DataError(
                f"{path}: only .parquet and .csv files stream; save it as Parquet "
                "(pyarrow.parquet.write_table) or leave out --stream on"
            )
        return False
    if setting == "on" or several:
        return True
    return sum(file.stat().st_size for file in files) > STREAM_ABOVE


@dataclasses.dataclass(frozen=True)
class Piece:
    """Rows read as one: a Parquet row group, or a CSV file (`row_group` None).

    `first_row`: the number of its first row in its file; `offset`: in the data,
    its files one after the other.
    """

    path: Path
    row_group: int | None
    first_row: int
    offset: int
    rows: int


def column_types(path: Path) -> dict[str, pyarrow.DataType]:
    """The columns of a file and their types, as a stream reads them.

    pyarrow infers a CSV file's types from its first block, the same for every
    block: there, a column of integers is read as floats (empty cells or 0.5 may
    come further on), and a column of empty cells as text.
    """
    try:
        if path.suffix.lower() == ".parquet":
            header = pyarrow.parquet.ParquetFile(path).schema_arrow
        else:
            header = pyarrow.csv.open_csv(path).schema
    except (OSError, ValueError) as error:
        raise unreadable(path, error) from None
    types = {field.name: field.type for field in header}
    for name, kind in types.items():
        if path.suffix.lower() == ".csv" and pyarrow.types.is_integer(kind):
            types[name] = pyarrow.float64()
        elif path.suffix.lower() == ".csv" and pyarrow.types.is_null(kind):
            types[name] = pyarrow.string()
    return types


def shared_columns(files: list[Path]) -> dict[str, pyarrow.DataType]:
    """The columns of the first of `files` and their types: every other file has
    them too."""
    types = column_types(files[0])
    for file in files[1:]:
        missing = sorted(set(types) - set(column_types(file)))
        if missing:
            raise DataError(
                f"{file} lacks the columns {listing(missing)} of {files[0]}: every "
                "file of the data has the same columns"
            )
    return types


def read_piece(
    piece: Piece, columns: list[str]
) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """The `columns` of a piece, a chunk at a time: (the chunk's first row in its
    file, its columns as arrays)."""
    path = piece.path
    try:
        if piece.row_group is None:
            chunks = pyarrow.csv.open_csv(
                path,
                read_options=pyarrow.csv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                convert_options=pyarrow.csv.ConvertOptions(
                    include_columns=columns, column_types=column_types(path)
                ),
            )
        else:
            chunks = pyarrow.parquet.ParquetFile(path).iter_batches(
                CHUNK_ROWS, row_groups=[piece.row_group], columns=columns
            )
        row = piece.first_row
        for chunk in chunks:
            if chunk.num_rows:
                yield row, table_arrays(path, chunk, row)
                row += chunk.num_rows
    except DataError:
        raise
    except (OSError, ValueError) as error:  # pyarrow's parse errors are ValueErrors
        raise unreadable(path, error) from None


def find_pieces(files: list[Path], count: str | None = None) -> list[Piece]:
    """The pieces of `files`. A CSV file's rows are counted by reading its column
    `count`; without one, they are left at 0 (find_stream_schema counts them)."""
    pieces, offset = [], 0
    for file in files:
        if file.suffix.lower() == ".csv":
            piece = Piece(file, None, 0, offset, 0)
            if count is not None:
                chunks = read_piece(piece, [count])
                rows = sum(len(arrays[count]) for _, arrays in chunks)
                piece = dataclasses.replace(piece, rows=rows)
            pieces.append(piece)
            offset += piece.rows
            continue
        try:
            metadata = pyarrow.parquet.ParquetFile(file).metadata
        except (OSError, ValueError) as error:
            raise unreadable(file, error) from None
        first_row = 0
        for group in range(metadata.num_row_groups):
            rows = metadata.row_group(group).num_rows
            pieces.append(Piece(file, group, first_row, offset + first_row, rows))
            first_row += rows
        offset += first_row
    return pieces


def row_hash(keys: np.ndarray, seed: int) -> np.ndarray:
    """A number in [0, 1) for each integer key: the same for the same key and
    seed, on every machine (splitmix64)."""
    with np.errstate(over="ignore"):
        mixed = keys.astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        mixed = (mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        mixed = mixed ^ (mixed >> np.uint64(31))
    return (mixed >> np.uint64(11)).astype(np.float64) / 2.0**53


def group_keys(values: np.ndarray) -> np.ndarray:
    """An integer key for each group value, from its text (BLAKE2 hash)."""
    found, inverse = np.unique(
        np.array([str(value) for value in values.tolist()]), return_inverse=True
    )
    digests = [
        hashlib.blake2b(value.encode(), digest_size=8).digest()
        for value in found.tolist()
    ]
    keys = [int.from_bytes(digest, "little") for digest in digests]
    return np.array(keys, np.uint64)[inverse.reshape(-1)]


@dataclasses.dataclass(frozen=True)
class Split:
    """Which part each row of a stream is in: by a hash of the seed and the row
    number (or its group's value); `validation` and `test` are fractions."""

    seed: int
    validation: float
    test: float
    group: str | None = None

    def parts(self, offset: int, count: int, groups) -> np.ndarray:
        """The part (0: train, 1: validation, 2: test) of `count` rows from row
        `offset` of the data, whose groups are `groups` (None without a group)."""
        if self.group is None:
            keys = np.arange(offset, offset + count, dtype=np.uint64)
        else:
            keys = group_keys(groups)
        draw = row_hash(keys, self.seed)
        bounds = [draw < self.test, draw < self.test + self.validation]
        return np.select(bounds, [2, 1], 0)


@dataclasses.dataclass(frozen=True)
class TableStream:
    """A part of streamed table files (`part` None: all their rows), as examples
    of `data.py`'s `Data` (`as_data` makes them of a file's inputs and targets;
    None: the inputs by name alone, as `predict` reads them)."""

    path: str
    pieces: tuple[Piece, ...]
    counts: tuple[int, ...]  # the rows of the part in each piece
    schema: Schema
    as_data: Callable | None
    split: Split | None = None
    part: int | None = None
    moments: tuple | None = None  # training parts: see Moments.examples
    # Draws the pairs of a chunk of items: pairs(items, key), `key` the pass
    # number and the chunk's first row in the data (data.py's chunk_pairs).
    pairs: Callable | None = None
    # Blocks kept in memory, by batch size (see blocks_in_order): each part its own.
    cache: dict = dataclasses.field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    @property
    def num_examples(self) -> int:
        return sum(self.counts)

    @property
    def group(self) -> str | None:
        return self.split.group if self.split else None

    def chunks(self, order, number: int = 0) -> Iterator[tuple]:
        """The part's examples in pieces `order`, a chunk at a time (their pairs
        in pass `number`, if it draws pairs); a thread reads the next chunks
        from disk meanwhile."""
        reads = ReadAhead(self.read(order))
        try:
            for piece, first_row, arrays in reads:
                data, groups = self.examples(piece.path, arrays, first_row)
                offset = piece.offset + first_row - piece.first_row
                if self.part is not None:
                    parts = self.split.parts(offset, num_examples(data), groups)
                    data = select(data, parts == self.part)
                if self.pairs is not None and num_examples(data):
                    data = self.pairs(data, [number, offset])
                if num_examples(data):
                    yield data
        finally:
            reads.stop()

    def read(self, order) -> Iterator[tuple[Piece, int, dict[str, np.ndarray]]]:
        """The columns of pieces `order` as they are read: (piece, first row of the
        chunk in its file, columns)."""
        for index in order:
            piece = self.pieces[index]
            for first_row, arrays in read_piece(piece, self.columns()):
                yield piece, first_row, arrays
            # pyarrow keeps what it freed for the next piece: give it back (50 MB
            # of the peak memory of a run, measured on 4 million rows).
            pyarrow.default_memory_pool().release_unused()

    def examples(self, path: Path, arrays: dict, first_row: int) -> tuple:
        """The examples in the columns `arrays` of rows of `path` from `first_row`
        on, and their groups (None without a group column)."""
        inputs, targets, groups = examples_of(
            path, arrays, self.schema, self.targets, self.group, first_row
        )
        if not self.targets:
            return (inputs,), groups
        return self.as_data(inputs, targets), groups

    @property
    def targets(self) -> bool:
        """Whether the examples have their targets (not so for `predict`)."""
        return self.as_data is not None

    def columns(self) -> list[str]:
        """The columns the examples are made of."""
        label = [self.schema.label] if self.targets else []
        columns = [*self.schema.features, *label, *filter(None, [self.group])]
        return list(dict.fromkeys(columns))  # the group may be the label

    def head(self, count: int) -> tuple:
        """The part's first `count` examples, in memory."""
        chunks = []
        for chunk in self.chunks(range(len(self.pieces))):
            chunks.append(chunk)
            if sum(map(num_examples, chunks)) >= count:
                break
        return select(join(chunks), slice(0, count))


def join(chunks: list[tuple]) -> tuple:
    """Chunks of examples as one."""
    return keras.tree.map_structure(lambda *arrays: np.concatenate(arrays), *chunks)


def split_parts(
    stream: TableStream, counts: np.ndarray
) -> tuple[TableStream, TableStream, TableStream]:
    """The train, validation and test parts of a stream whose pieces hold
    `counts[piece, part]` rows of each part; a part the split leaves empty stops
    the run."""
    split = stream.split
    fractions = (1.0, split.validation, split.test)
    for name, fraction, count in zip(PARTS, fractions, counts.sum(axis=0), strict=True):
        if fraction and not count:
            raise DataError(
                f"{stream.path}: the split leaves no {name} rows; bring more rows"
                + (f", or pass --{name}-data" if name != "train" else "")
            )
    pyarrow.default_memory_pool().release_unused()  # what the passes freed
    print(
        f"Split {counts.sum():,} rows by a hash of the "
        + (f"'{split.group}' values: " if split.group else "row numbers: ")
        + ", ".join(
            f"{count:,} {name}"
            for name, count in zip(PARTS, counts.sum(axis=0), strict=True)
        )
    )
    return tuple(
        dataclasses.replace(stream, counts=tuple(counts[:, part].tolist()), part=part)
        for part in range(len(PARTS))
    )


def held_out_stream(path, schema: Schema, as_data: Callable | None) -> TableStream:
    """Every row of streamed files that follow the training files' `schema`: as
    examples made by `as_data`, or (None) their inputs alone."""
    stream = TableStream(str(path), (), (), schema, as_data)
    files, needed = data_files(path), stream.columns()
    for file in files:
        missing = [column for column in needed if column not in column_types(file)]
        if missing:
            raise DataError(
                f"{file} lacks the columns {listing(missing)}; the model reads "
                f"{listing(needed)}"
            )
    pieces = find_pieces(files, count=needed[0])
    counts = tuple(piece.rows for piece in pieces)
    return dataclasses.replace(stream, pieces=tuple(pieces), counts=counts)


def input_blocks(path, schema: Schema, batch_size: int) -> Iterator[dict]:
    """The inputs by name of every row of streamed files that follow `schema`, in
    order, BLOCK_BATCHES batches at a time: what `predict` reads."""
    for (inputs,) in read_in_order(held_out_stream(path, schema, None), batch_size):
        yield inputs


class Moments:
    """The count, mean and variance of every array of the examples added, merged
    chunk by chunk (Chan, Golub and LeVeque's pairwise update)."""

    def __init__(self):
        self.count, self.means, self.squares, self.structure = 0, None, None, None

    def add(self, data: tuple) -> None:
        arrays = [np.asarray(array, np.float64) for array in keras.tree.flatten(data)]
        count = len(arrays[0])
        if not count:
            return
        means = [array.mean(axis=0) for array in arrays]
        squares = [
            ((array - mean) ** 2).sum(axis=0)
            for array, mean in zip(arrays, means, strict=True)
        ]
        if self.structure is None:
            self.structure = data
            self.count, self.means, self.squares = count, means, squares
            return
        total = self.count + count
        for index, (mean, square) in enumerate(zip(means, squares, strict=True)):
            delta = mean - self.means[index]
            self.means[index] = self.means[index] + delta * count / total
            self.squares[index] = (
                self.squares[index] + square + delta**2 * self.count * count / total
            )
        self.count = total

    def examples(self) -> tuple:
        """Two examples whose mean and variance are those of the examples added:
        what `adapt` in model.py learns from, for data too big to hand it whole."""
        leaves = keras.tree.flatten(self.structure)
        rows = []
        for leaf, mean, square in zip(leaves, self.means, self.squares, strict=True):
            std = np.sqrt(square / self.count)
            rows.append(np.stack([mean - std, mean + std]).astype(leaf.dtype))
        return keras.tree.pack_sequence_as(self.structure, rows)


def adaptation_data(train_split) -> tuple:
    """What `adapt` learns the normalization from: the training examples, or for a
    stream two examples with their mean and variance."""
    if isinstance(train_split, TableStream):
        return train_split.moments
    return train_split


def stream_splits(
    path,
    label: str,
    features: str | None,
    split: Split,
    as_data: Callable,
    pairs: Callable,
) -> tuple[Schema, tuple[TableStream, TableStream, TableStream]]:
    """The schema of streamed item files, and their train, validation and test
    parts (see the module's docstring), whose chunks `pairs(items, key, seed)`
    pairs; each part needs two classes."""
    files = data_files(path)
    count = f"{len(files)} files" if len(files) > 1 else "1 file"
    print(f"Streaming {path} ({count}): reading its items")
    names = list(shared_columns(files))
    columns = item_columns(path, names, label, features)
    schema = Schema(columns, label, [len(columns)])
    if split.group:
        split = class_split(files, label, split)
    stream = TableStream(str(path), (), (), schema, as_data, split, 0)
    moments = Moments()
    classes = [set() for _ in PARTS]  # two of each part's classes, at most
    # Training items with another of their class in their chunk (see below).
    paired, trained = 0, 0
    pieces, counts, offset = [], [], 0
    for piece in find_pieces(files):
        piece = dataclasses.replace(piece, offset=offset)  # CSV files: counted here
        rows = np.zeros(len(PARTS), int)
        for first_row, arrays in read_piece(piece, stream.columns()):
            (inputs, found), groups = stream.examples(piece.path, arrays, first_row)
            start = offset + first_row - piece.first_row
            parts = split.parts(start, len(found), groups)
            rows += np.bincount(parts, minlength=len(PARTS))
            moments.add(inputs["items"][parts == 0])
            for part, seen in enumerate(classes):
                if len(seen) < 2:
                    seen.update(np.unique(found[parts == part])[:2].tolist())
            _, sizes = np.unique(found[parts == 0], return_counts=True)
            paired += sizes[sizes > 1].sum()
            trained += sizes.sum()
        pieces.append(dataclasses.replace(piece, rows=int(rows.sum())))
        counts.append(rows)
        offset += pieces[-1].rows
    stream = dataclasses.replace(stream, pieces=tuple(pieces))
    parts = split_parts(stream, np.array(counts).reshape(-1, len(PARTS)))
    fractions = (1, split.validation, split.test)
    for name, seen, fraction in zip(PARTS, classes, fractions, strict=True):
        if fraction and len(seen) < 2:
            raise DataError(
                f"the {name} split holds one class only; its pairs need two or "
                "more: bring more items or classes"
                + (f", or pass --{name}-data" if name != "train" else "")
            )
    if paired < trained / 2:
        print(
            f"note: {100 * (1 - paired / trained):.0f}% of the training items have "
            "no other item of their class in their chunk of the data, so that their "
            "pairs (and the validation and test pairs: read the ROC AUC, not the "
            "pair accuracy) are mostly of different classes: write the rows grouped "
            "by class (sorted by the label) for as many same-class pairs as others",
            file=sys.stderr,
        )
    # Two items with the training items' mean and variance, as `adapt` reads them.
    moments = ({"items": moments.examples()}, np.zeros(2, "int64"))
    # Validation pairs drawn with the seed, test pairs with the next (as in memory).
    seeds = (split.seed, split.seed, split.seed + 1)
    parts = [
        dataclasses.replace(part, pairs=functools.partial(pairs, seed=seed))
        for part, seed in zip(parts, seeds, strict=True)
    ]
    parts[0] = dataclasses.replace(parts[0], moments=moments)
    return schema, tuple(parts)


def class_split(files: list[Path], label: str, split: Split) -> Split:
    """`split` by class with the bounds that give validation and test their share
    of the classes, two at least each (as in memory), and training the rest, two
    at least: the classes are read first, in a pass over the label column."""
    found = set()
    for piece in find_pieces(files):
        for first_row, arrays in read_piece(piece, [label]):
            found.update(labels(piece.path, label, arrays[label], first_row).tolist())
    sizes = [
        max(2, math.ceil(len(found) * fraction)) if fraction else 0
        for fraction in (split.test, split.validation)
    ]
    needed = sum(sizes) + 2
    if len(found) < needed:
        raise DataError(
            f"--split-by class needs {needed} classes, two or more for each part of "
            f"the split; the data has {len(found)}: add classes, or split by item"
        )
    # A class's part is decided by its hash (Split.parts): the test part takes the
    # classes of the lowest hashes, validation the next ones.
    draws = np.sort(row_hash(group_keys(np.array(list(found), object)), split.seed))
    bounds = [0.0, 0.0]
    for index, end in enumerate(itertools.accumulate(sizes)):
        if sizes[index]:
            bounds[index] = (draws[end - 1] + draws[end]) / 2
        elif index:
            bounds[index] = bounds[index - 1]
    return dataclasses.replace(split, test=bounds[0], validation=bounds[1] - bounds[0])


def blocks_in_order(stream: TableStream, batch_size: int) -> Iterator[tuple]:
    """One pass over a stream in order, in blocks of whole batches but the last.

    A part of at most CACHE_BYTES (a validation part read every epoch) is kept in
    memory after its first pass.
    """
    if batch_size in stream.cache:
        yield from stream.cache[batch_size]
        return
    kept, size, rows = [], 0, 0
    for block in read_in_order(stream, batch_size):
        size += sum(leaf.nbytes for leaf in keras.tree.flatten(block))
        rows += num_examples(block)
        if kept is not None and size <= CACHE_BYTES:
            kept.append(block)
        else:
            kept = None
        if kept is not None and rows == stream.num_examples:
            stream.cache[batch_size] = kept  # before the last block: Keras stops there
        yield block


def read_in_order(stream: TableStream, batch_size: int) -> Iterator[tuple]:
    """The blocks of blocks_in_order, read from disk."""
    rest = None
    for chunk in stream.chunks(range(len(stream.pieces))):
        data = chunk if rest is None else join([rest, chunk])
        whole = num_examples(data) // batch_size * batch_size
        step = BLOCK_BATCHES * batch_size
        for start in range(0, whole, step):
            yield select(data, slice(start, min(start + step, whole)))
        rest = select(data, slice(whole, None))
    if rest is not None and num_examples(rest):
        yield rest


def shuffled_blocks(
    stream: TableStream, batch_size: int, seed: int, pieces: list[int]
) -> Iterator[tuple]:
    """Endless passes over `pieces` of a stream, each in a new order, their rows
    mixed through a shuffle buffer, in blocks of whole batches."""
    buffer, buffer_rows = [], None
    for number in itertools.count():
        rng = np.random.default_rng([seed, number])
        for chunk in stream.chunks(rng.permutation(pieces), number):
            buffer.append(chunk)
            if buffer_rows is None:  # the rows SHUFFLE_BYTES hold, at least 4 batches
                row_bytes = sum(leaf[0].nbytes for leaf in keras.tree.flatten(chunk))
                buffer_rows = max(SHUFFLE_BYTES // row_bytes, 4 * batch_size)
            if sum(map(num_examples, buffer)) >= 2 * buffer_rows:
                buffer = yield from mixed_blocks(buffer, buffer_rows, batch_size, rng)
        # The end of a pass: what is left, in whole batches; the rest goes on.
        buffer = yield from mixed_blocks(buffer, 0, batch_size, rng)


def mixed_blocks(
    buffer: list[tuple], keep: int, batch_size: int, rng: np.random.Generator
):
    """Yield the rows of `buffer`'s chunks in a random order, in blocks of whole
    batches, but `keep` of them (and a partial batch); return those, mixed."""
    data = join(buffer)
    buffer.clear()  # the chunks are in `data` now: free them (70 MB of the peak)
    order = rng.permutation(num_examples(data))
    ready = (len(order) - keep) // batch_size * batch_size
    step = BLOCK_BATCHES * batch_size
    for start in range(0, ready, step):
        yield select(data, order[start : min(start + step, ready)])
    return [select(data, order[ready:])]


def stream_blocks(
    stream: TableStream,
    batch_size: int,
    training: bool,
    seed: int,
    pieces: list[int] | None = None,
) -> Iterator[tuple]:
    """The blocks of batches of a part: for training, shuffled and endless (over
    `pieces`, all if None); else one pass in order."""
    if not training:
        return blocks_in_order(stream, batch_size)
    if pieces is None:
        pieces = list(range(len(stream.pieces)))
    return shuffled_blocks(stream, batch_size, seed, pieces)


class ReadAhead:
    """The items of an iterator, made by a thread up to `depth` items ahead of
    their use. Reading a file releases Python's lock, converting it does not: so
    a thread reads, and the consumer converts."""

    def __init__(self, items: Iterator, depth: int = 2):
        self.queue = queue.Queue(depth)
        self.stopped = threading.Event()
        threading.Thread(target=self.run, args=(items,), daemon=True).start()

    def run(self, items: Iterator) -> None:
        try:
            for item in items:
                if not self.put(("item", item)):
                    return
            self.put(("end", None))
        except Exception as error:  # raised where the next item is asked for
            self.put(("error", error))

    def put(self, entry) -> bool:
        """Queue `entry`, unless stopped first; whether it was queued."""
        while not self.stopped.is_set():
            try:
                self.queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self):
        return self

    def __next__(self):
        kind, value = self.queue.get()
        if kind == "error":
            raise value
        if kind == "end":
            raise StopIteration
        return value

    def stop(self) -> None:
        self.stopped.set()


class StreamBatches(keras.utils.PyDataset):
    """The batches of a TableStream, which `fit` reads on JAX and torch (`batches`
    picks them for streams there): cut from its blocks (see stream_blocks)."""

    def __init__(
        self,
        stream: TableStream,
        batch_size: int,
        training: bool = False,
        seed: int = 0,
    ):
        super().__init__()
        self.stream = stream
        self.batch_size = batch_size
        self.training = training
        self.seed = seed
        self.blocks = None
        self.block, self.offset = None, 0
        self.next_index = 0

    @property
    def num_batches(self) -> int | None:
        """Batches in one pass over the part; None (endless) for training."""
        if self.training:
            return None
        return math.ceil(self.stream.num_examples / self.batch_size)

    def __getitem__(self, index: int) -> tuple:
        # Keras asks for the batches in order; any other index starts over.
        if self.blocks is None or index != self.next_index:
            self.start()
            for _ in range(index):
                self.next_batch()
        self.next_index = index + 1
        return self.next_batch()

    def next_batch(self) -> tuple:
        if self.block is None or self.offset >= num_examples(self.block):
            self.block, self.offset = next(self.blocks), 0
        batch = select(self.block, slice(self.offset, self.offset + self.rows))
        self.offset += self.rows
        return batch

    def start(self) -> None:
        """Read the part from its start."""
        self.rows = self.batch_size
        blocks = stream_blocks(self.stream, self.rows, self.training, self.seed)
        self.blocks = blocks
        self.block, self.offset = None, 0
