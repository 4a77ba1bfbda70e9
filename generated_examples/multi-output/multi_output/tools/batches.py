"""Batches for `fit` and `evaluate`, made for the backend Keras runs on.

TensorFlow reads a `tf.data` pipeline. For training, numpy shuffles the rows a pass
at a time and hands them to it in blocks of BLOCK_BATCHES batches, stacked, which
TensorFlow takes apart into batches and prefetches: twice the samples per second of
a per-example `tf.data` shuffle in `fit`, for a small dense model on 2 CPU cores.
JAX and torch read `ArrayBatches`, a `keras.utils.PyDataset` that slices the numpy
arrays: it needs no TensorFlow, and on those backends it feeds a small model faster
than `tf.data` does.

A TableStream (data bigger than memory, tools/streaming.py) is read the same way:
its blocks go to `tf.data` on TensorFlow, to a `StreamBatches` on JAX and torch.

Both read the training part as one endless stream, shuffled afresh on every pass and
cut into full batches, so every backend trains on the same kind of batches.
"""

import functools
import itertools
import math
from collections.abc import Callable, Iterator

import keras
import numpy as np

from multi_output.data import Data
from multi_output.tools.readers import MET_IN_PIPELINE, DataError, num_examples, select
from multi_output.tools.streaming import StreamBatches, TableStream, stream_blocks

# Batches handed from numpy to `tf.data` at a time.
BLOCK_BATCHES = 256
# Examples read in order (validation, evaluate) go to `tf.data` whole if they take
# at most this, the fastest for every epoch's validation; else in blocks too, not
# copied whole into TensorFlow's memory.
COPY_BYTES = 64 * 2**20


def batches(
    part: Data,
    batch_size: int,
    training: bool = False,
    seed: int = 0,
):
    """Batches of one part of the data; for training, shuffled and endless."""
    if isinstance(part, TableStream) and keras.backend.backend() == "tensorflow":
        blocks = functools.partial(stream_blocks, part, batch_size, training, seed)
        length = None if training else math.ceil(part.num_examples / batch_size)
        return blocks_dataset(blocks, part.head(1), batch_size, length)
    if isinstance(part, TableStream):
        return StreamBatches(part, batch_size, training, seed)
    if keras.backend.backend() == "tensorflow":
        return tf_dataset(part, batch_size, training, seed)
    return ArrayBatches(part, batch_size, training, seed)


def tf_dataset(
    part: Data,
    batch_size: int,
    training: bool,
    seed: int,
):
    """The `tf.data` pipeline of `batches`, for the TensorFlow backend."""
    import tensorflow as tf  # here, so that JAX and torch runs need no TensorFlow

    if training:
        blocks = functools.partial(shuffled_blocks, part, batch_size, seed)
        return blocks_dataset(blocks, part, batch_size)
    count = num_examples(part)
    if sum(array.nbytes for array in keras.tree.flatten(part)) > COPY_BYTES:
        blocks = functools.partial(ordered_blocks, part, batch_size, count)
        return blocks_dataset(blocks, part, batch_size, math.ceil(count / batch_size))
    dataset = tf.data.Dataset.from_tensor_slices(part).batch(batch_size)
    return dataset.prefetch(tf.data.AUTOTUNE)


def shuffled_blocks(part: Data, batch_size: int, seed: int) -> Iterator[Data]:
    """Endless passes over `part`, each in a new order, in blocks of whole batches;
    the rows a pass leaves over open the next one."""
    count = num_examples(part)
    rest = np.zeros(0, int)
    for number in itertools.count():
        order = np.random.default_rng([seed, number]).permutation(count)
        order = np.concatenate([rest, order])
        whole = len(order) // batch_size * batch_size
        for start in range(0, whole, BLOCK_BATCHES * batch_size):
            stop = min(start + BLOCK_BATCHES * batch_size, whole)
            yield select(part, order[start:stop])
        rest = order[whole:]


def ordered_blocks(part: Data, batch_size: int, count: int) -> Iterator[Data]:
    """The first `count` examples of `part`, in order, in blocks of whole batches
    but the last."""
    step = BLOCK_BATCHES * batch_size
    for start in range(0, count, step):
        yield select(part, slice(start, min(start + step, count)))


def blocks_dataset(
    blocks: Callable[[], Iterator[Data]],
    example: Data,
    batch_size: int,
    length: int | None = None,
):
    """A `tf.data` pipeline of the batches in the blocks `blocks()` makes (numpy
    arrays of whole batches, but maybe the last): `length` batches, or endless if
    None. `example`: examples with the blocks' structure, shapes and types."""
    import tensorflow as tf  # here, so that JAX and torch runs need no TensorFlow

    def stacks() -> Iterator[Data]:
        try:
            for block in blocks():
                yield from batch_stacks(block, batch_size)
        except DataError as error:  # a bad cell in a stream: see met_in_pipeline
            MET_IN_PIPELINE.append(error)
            raise

    signature = keras.tree.map_structure(
        lambda array: tf.TensorSpec((None, None, *array.shape[1:]), array.dtype),
        example,
    )
    dataset = tf.data.Dataset.from_generator(stacks, output_signature=signature)
    # A stack comes apart into its batches more cheaply than `rebatch` cuts rows:
    # 1.15x the samples per second of a small model in `fit`.
    dataset = dataset.unbatch()
    if length is not None:  # which Keras cannot see in a generator
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(length))
    return dataset.prefetch(tf.data.AUTOTUNE)


def batch_stacks(block: Data, batch_size: int) -> Iterator[Data]:
    """The whole batches of a block as one stack of them, each array shaped
    (batches, batch_size, ...), then its last, partial batch, if any, alone."""
    count = num_examples(block)
    whole = count // batch_size * batch_size
    if whole:
        yield keras.tree.map_structure(
            lambda array: array[:whole].reshape(-1, batch_size, *array.shape[1:]),
            block,
        )
    if whole < count:
        yield keras.tree.map_structure(lambda array: array[np.newaxis, whole:], block)


class ArrayBatches(keras.utils.PyDataset):
    """Batches sliced from in-memory arrays, which `fit` reads on any backend
    (`batches` picks them on JAX and torch)."""

    def __init__(
        self,
        part: Data,
        batch_size: int,
        training: bool = False,
        seed: int = 0,
    ):
        super().__init__()
        self.part = part
        self.batch_size = batch_size
        self.training = training
        self.seed = seed
        self.count = num_examples(part)

    @property
    def num_batches(self) -> int | None:
        """Batches in one pass over the data; None (endless) for training."""
        if self.training:
            return None
        return math.ceil(self.count / self.batch_size)

    def __getitem__(self, index: int) -> Data:
        rows = self.rows(index)
        return keras.tree.map_structure(lambda array: array[rows], self.part)

    def rows(self, index: int) -> np.ndarray | slice:
        """The rows of batch `index`."""
        start = index * self.batch_size
        if self.training:
            rows = self.shuffled_rows(start)
        else:
            rows = slice(start, start + self.batch_size)
        return rows

    def shuffled_rows(self, start: int) -> np.ndarray:
        """The rows of one batch of the endless stream of shuffled passes."""
        number, offset = divmod(start, self.count)
        if offset + self.batch_size <= self.count:  # most batches: within one pass
            order = shuffled_order(self.count, self.seed, number)
            return order[offset : offset + self.batch_size]
        passes, offsets = np.divmod(
            np.arange(start, start + self.batch_size), self.count
        )
        return np.concatenate(
            [
                shuffled_order(self.count, self.seed, number)[offsets[passes == number]]
                for number in np.unique(passes)
            ]
        )


@functools.lru_cache(maxsize=4)
def shuffled_order(count: int, seed: int, number: int) -> np.ndarray:
    """The order of `count` rows in pass `number` over them."""
    return np.random.default_rng([seed, number]).permutation(count)
