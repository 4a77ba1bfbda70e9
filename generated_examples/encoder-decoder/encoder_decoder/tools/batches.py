"""Batches for `fit` and `evaluate`, made for the backend Keras runs on.

TensorFlow reads a `tf.data` pipeline: cached, shuffled, batched and prefetched by
TensorFlow's own threads. JAX and torch read `ArrayBatches`, a `keras.utils.PyDataset`
that slices the numpy arrays: it needs no TensorFlow, and on those backends it feeds
a small model faster than `tf.data` does.

Both read the training part as one endless stream, shuffled afresh on every pass and
cut into full batches, so every backend trains on the same kind of batches.
"""

import functools
import math

import keras
import numpy as np

from encoder_decoder.data import Data
from encoder_decoder.tools.readers import num_examples


def batches(
    part: Data,
    batch_size: int,
    training: bool = False,
    seed: int = 0,
):
    """Batches of one part of the data; for training, shuffled and endless."""
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

    dataset = tf.data.Dataset.from_tensor_slices(part).cache()
    if training:
        dataset = dataset.shuffle(dataset.cardinality(), seed=seed).repeat()
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


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
