import pytest

from multi_output.config import ModelConfig
from multi_output.data import make_synthetic_data


@pytest.fixture(scope="session")
def config():
    return ModelConfig()


@pytest.fixture(scope="session")
def batch(config):
    return make_synthetic_data(64, config.input_shape, seed=1)
