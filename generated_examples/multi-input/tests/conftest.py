import pytest

from multi_input.config import ModelConfig
from multi_input.data import as_data, make_synthetic_data


@pytest.fixture(scope="session")
def config():
    return ModelConfig()


@pytest.fixture(scope="session")
def batch(config):
    """Examples as the model trains on them."""
    return as_data(*make_synthetic_data(64, config.input_widths, seed=1))
