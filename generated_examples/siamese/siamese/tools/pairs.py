"""Training pairs for `fit`, drawn afresh from the labelled training items.

On TensorFlow the pairs are drawn inside the `tf.data` pipeline (`tf_pairs`); on JAX
and torch by `PairBatches`, a pass's partners at once in numpy.

Items streamed from disk (tools/streaming.py) come paired, a chunk at a time.
"""

import keras
import numpy as np

from siamese.data import Data, PairSampler
from siamese.tools.batches import ArrayBatches, batches
from siamese.tools.streaming import TableStream, blocks_in_order


class PairBatches(ArrayBatches):
    """An endless stream of training pairs drawn from labelled items.

    Each pass over the items makes every item, in a new order, the left item of a
    pair, and draws it a new partner, of its class or of another, half and half:
    the pairs change from epoch to epoch. A pass's partners are drawn at once,
    so that a batch costs only its slicing.
    """

    def __init__(self, items: Data, batch_size: int, seed: int = 0, **options):
        super().__init__(items, batch_size, training=True, seed=seed, **options)
        self.sampler = PairSampler(items[1])
        self.drawn = (-1, None)  # (pass number, its partners and labels)

    def __getitem__(self, index: int) -> Data:
        anchors = self.rows(index)
        partners, same = self.partners(index * self.batch_size // self.count)
        features = self.part[0]["items"]
        pairs = {"left": features[anchors], "right": features[partners[anchors]]}
        return pairs, same[anchors]

    def partners(self, number: int) -> tuple[np.ndarray, np.ndarray]:
        """Every item's partner in pass `number`, and 1.0 where of its class."""
        if self.drawn[0] != number:
            rng = np.random.default_rng([self.seed, number])
            drawn = self.sampler.partners(np.arange(self.count), rng)
            self.drawn = (number, drawn)
        return self.drawn[1]


def tf_pairs(items: Data, batch_size: int, seed: int = 0):
    """The endless stream of `PairBatches` as a `tf.data` pipeline, for TensorFlow.

    Every pass over the items, shuffled afresh, makes each item the left item of a
    pair; the partners are drawn with TensorFlow ops, as `PairSampler` draws them in
    numpy, for 16 batches at a time (a batch at a time costs twice the CPU), then
    cut into batches. `fit` on TensorFlow reads a `PairBatches` through Python for
    every batch: this pipeline trains the default model 1.8x as fast (measured in
    benchmarks/train_command.py).
    """
    import tensorflow as tf  # here, so that JAX and torch runs need no TensorFlow

    inputs, classes = items
    sampler = PairSampler(classes)
    features = tf.constant(inputs["items"])
    order, rank, starts, sizes = (
        tf.constant(array, tf.int64)
        for array in (sampler.order, sampler.rank, sampler.start, sampler.size)
    )
    count = len(classes)

    def shuffled(number):
        """The items in the order of pass `number`."""
        rows = tf.range(count, dtype=tf.int64)
        return tf.random.experimental.stateless_shuffle(rows, seed=[seed, number])

    def draw(number, anchors):
        """Chunk `number` of the stream: its pairs, and 1.0 where same."""
        start, size = tf.gather(starts, anchors), tf.gather(sizes, anchors)
        uniform = tf.random.stateless_uniform(
            (3, tf.size(anchors)), seed=[seed, number], dtype=tf.float64
        )

        def below(row, bound):
            """Integers drawn uniformly from 0 .. bound - 1."""
            return tf.cast(uniform[row] * tf.cast(bound, tf.float64), tf.int64)

        same = (uniform[0] < 0.5) & (size > 1)
        # Same class: another member of it, never the anchor itself.
        step = 1 + below(1, tf.maximum(size, 2) - 1)
        offset = (tf.gather(rank, anchors) - start + step) % size
        member = tf.gather(order, start + offset)
        # Another class: any item outside the anchor's class.
        other = below(2, count - size)
        outsider = tf.gather(order, tf.where(other < start, other, other + size))
        partners = tf.where(same, member, outsider)
        pairs = {
            "left": tf.gather(features, anchors),
            "right": tf.gather(features, partners),
        }
        return pairs, tf.cast(same, tf.float32)

    pairs = (
        tf.data.Dataset.counter()
        .map(shuffled)  # one pass over the items each
        .rebatch(16 * batch_size)  # chunks of the endless stream
        .enumerate()
        .map(draw, num_parallel_calls=tf.data.AUTOTUNE)
        .rebatch(batch_size, drop_remainder=True)
    )
    return pairs.prefetch(tf.data.AUTOTUNE)


def training_batches(
    part: Data | TableStream, batch_size: int, seed: int = 0, **options
):
    """Batches to train on: pairs drawn from items, or the pairs of a pair file or
    of a stream."""
    if isinstance(part, TableStream) or "items" not in part[0]:
        return batches(part, batch_size, training=True, seed=seed, **options)
    if keras.backend.backend() == "tensorflow" and not options:
        return tf_pairs(part, batch_size, seed)
    return PairBatches(part, batch_size, seed, **options)


def pair_labels(part: Data | TableStream, batch_size: int) -> np.ndarray:
    """1.0 where the pairs of a part are of the same class, in the order in which
    `batches(part, batch_size)` reads them."""
    if isinstance(part, TableStream):
        return np.concatenate([same for _, same in blocks_in_order(part, batch_size)])
    return part[1]
