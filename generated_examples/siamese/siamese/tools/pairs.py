"""Training pairs for `fit`, drawn afresh from the labelled training items."""

import numpy as np

from siamese.data import Data, PairSampler
from siamese.tools.batches import ArrayBatches, batches


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
        return {
            "left": features[anchors],
            "right": features[partners[anchors]],
        }, same[anchors]

    def partners(self, number: int) -> tuple[np.ndarray, np.ndarray]:
        """Every item's partner in pass `number`, and 1.0 where of its class."""
        if self.drawn[0] != number:
            rng = np.random.default_rng([self.seed, number])
            drawn = self.sampler.partners(np.arange(self.count), rng)
            self.drawn = (number, drawn)
        return self.drawn[1]


def training_batches(part: Data, batch_size: int, seed: int = 0, **options):
    """Batches to train on: pairs drawn from items, or the pairs of a pair file."""
    inputs, _ = part
    if "items" in inputs:
        return PairBatches(part, batch_size, seed, **options)
    return batches(part, batch_size, training=True, seed=seed, **options)
