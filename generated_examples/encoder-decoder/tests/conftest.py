import pytest

from encoder_decoder.config import ModelConfig
from encoder_decoder.data import make_synthetic_data


@pytest.fixture(scope="session")
def config():
    return ModelConfig()


@pytest.fixture(scope="session")
def batch(config):
    """Pairs as the model trains on them: inputs, targets and their weights."""
    return make_synthetic_data(
        64, config.source_vocab_size, config.sequence_length, seed=1
    )
