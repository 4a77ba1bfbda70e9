import pytest

from siamese.config import ModelConfig
from siamese.data import draw_pairs, make_synthetic_items


@pytest.fixture(scope="session")
def config():
    return ModelConfig()


@pytest.fixture(scope="session")
def batch(config):
    """64 pairs, as the model trains on them."""
    items = make_synthetic_items(64, config.input_shape, seed=1)
    return draw_pairs(items, pairs_per_item=1, seed=1)
