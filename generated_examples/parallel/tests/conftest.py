import pytest

from parallel.config import ModelConfig
from parallel.data import make_synthetic_data


@pytest.fixture(scope="session")
def config():
    return ModelConfig()


@pytest.fixture(scope="session")
def batch(config):
    return make_synthetic_data(64, config.input_shape, config.num_classes, seed=1)
