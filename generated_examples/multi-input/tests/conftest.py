import pytest

from multi_input.config import ModelConfig
from multi_input.data import make_synthetic_data


@pytest.fixture(scope="session")
def config():
    return ModelConfig()


@pytest.fixture(scope="session")
def batch(config):
    return make_synthetic_data(64, config.input_widths, config.num_classes, seed=1)
