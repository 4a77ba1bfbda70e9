"""Sequence pairs for the encoder-decoder: a built-in learnable task, or your own data.

Your own data is a table (CSV or Parquet) of text pairs, one row per example:

    source  the text to read, such as a sentence in English
    target  the text to write, such as its translation

    python -m encoder_decoder train \\
        --data sentences.csv --columns source=english,target=french

Text is lowercased and cut into words and punctuation marks, each keeping the
space before it, so that the decoded tokens join back into text. Each side gets its
own vocabulary, the most frequent words of the training split (at most
--max-words); a word outside it reads as the unknown token. Sequences are as long
as the longest of the training split, at most --max-length tokens: longer ones are
cut, with a note saying how many. A `.npz` file holds `source` and `target`
as text, shape (n,), or as your own token ids, shape (n, length): integers from 1,
0 for padding.

Pairs bigger than memory are streamed from disk, a chunk at a time (see
tools/streaming.py): a folder or a glob of .parquet or .csv files, or files over
256 MB (`--stream` decides instead). One pass over them finds the vocabularies and
lengths of the training split, which is then by a hash of the row number.

The model reads tokens: 0 pads, 1 starts the decoder, 2 ends a target, 3 is unknown;
words (or your ids) take 4 on. The decoder's input, the target shifted right with
the start token first, is derived from `target`.
"""

import numpy as np

from encoder_decoder.config import END, PAD, RESERVED, START, ModelConfig, TrainConfig
from encoder_decoder.tools.readers import (
    DataError,
    forget_files,
    parse_columns,
    read_file,
    select,
    split,
)
from encoder_decoder.tools.schema import SIDES, Schema, find_schema, read_tokens
from encoder_decoder.tools.streaming import (
    Split,
    TableStream,
    held_out_stream,
    stream_splits,
    streams,
)

# An example is its inputs by name, its target tokens, and the weight of each.
Data = tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]


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


def load_data(path, schema: Schema, stream: str = "auto") -> Data | TableStream:
    """The pairs of a file that follows `schema` (the training file's); read from
    disk a chunk at a time if `stream` (see TrainConfig.stream) says so."""
    if streams(path, stream):
        return held_out_stream(path, schema, as_data)
    return as_data(*read_tokens(path, schema))


def load_splits(config: TrainConfig) -> tuple[Data, Data, Data, Schema]:
    """Train, validation and test data, and the schema of their files.

    From `config.data_path` (built-in data if None), split at random by pair; a
    `config.validation_path` or `config.test_path` file replaces that part. Data
    bigger than memory is streamed: each part is then a TableStream, read from
    disk a chunk at a time (see tools/streaming.py).
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
    elif streams(config.data_path, config.stream):
        schema, (train_split, validation_split, test_split) = stream_splits(
            config.data_path,
            parse_columns(config.columns, SIDES),
            Split(config.seed, parts["validation"], parts["test"]),
            config.max_words,
            config.max_length,
            as_data,
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
        validation_split = load_data(config.validation_path, schema, config.stream)
    if config.test_path:
        test_split = load_data(config.test_path, schema, config.stream)
    forget_files()  # the arrays hold the data now: free the parsed files
    return train_split, validation_split, test_split, schema
