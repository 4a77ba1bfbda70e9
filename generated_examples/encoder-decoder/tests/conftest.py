import pytest

from encoder_decoder.config import ModelConfig
from encoder_decoder.data import make_synthetic_data


@pytest.fixture(scope="session")
def config():
    return ModelConfig()


@pytest.fixture(scope="session")
def batch(config):
    """Pairs as the model trains on them: inputs, targets and their weights.

    Two steps at least: from a one-step source, an encoder layer of its own never
    uses its recurrent kernel (it multiplies the zero initial state).
    """
    length = max(config.sequence_length, 2)
    return make_synthetic_data(64, config.source_vocab_size, length, seed=1)
