"""Training pairs for `fit`, drawn afresh from the labelled training items."""

import numpy as np

from siamese.batches import ArrayBatches, batches
from siamese.data import Data, PairSampler


class PairBatches(ArrayBatches):
    """An endless stream of training pairs drawn from labelled items.

    Each pass over the items makes every item, in a new order, the left item of a
    pair; its partner is drawn for every batch, of its class or of another, half and
    half, so that the pairs change from epoch to epoch.
    """

    def __init__(self, items: Data, batch_size: int, seed: int = 0, **options):
        super().__init__(items, batch_size, training=True, seed=seed, **options)
        self.sampler = PairSampler(items[1])

    def __getitem__(self, index: int) -> Data:
        anchors = self.rows(index)
        rng = np.random.default_rng([self.seed, index])
        partners, same = self.sampler.partners(anchors, rng)
        features = self.part[0]["items"]
        return {"left": features[anchors], "right": features[partners]}, same


def training_batches(part: Data, batch_size: int, seed: int = 0, **options):
    """Batches to train on: pairs drawn from items, or the pairs of a pair file."""
    inputs, _ = part
    if "items" in inputs:
        return PairBatches(part, batch_size, seed, **options)
    return batches(part, batch_size, training=True, seed=seed, **options)
