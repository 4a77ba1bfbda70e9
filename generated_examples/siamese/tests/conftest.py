import pytest

from siamese.config import ModelConfig
from siamese.data import make_synthetic_pairs


@pytest.fixture(scope="session")
def config():
    return ModelConfig()


@pytest.fixture(scope="session")
def batch(config):
    return make_synthetic_pairs(64, config.input_shape, seed=1)
