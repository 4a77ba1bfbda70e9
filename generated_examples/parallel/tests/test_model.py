import keras
import numpy as np

from parallel.model import build_branch, build_model


def test_output_is_a_distribution_over_classes(config, batch):
    inputs, _ = batch
    probabilities = build_model(config).predict(inputs, verbose=0)
    assert probabilities.shape == (64, config.num_classes)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


def test_branch_weights(config):
    model = build_model(config)
    stacks = [layer for layer in model.layers if isinstance(layer, keras.Sequential)]
    branch_width = config.input_shape[-1]
    one_branch = build_branch(config, name="reference")
    one_branch.build((None, branch_width))
    branch_weights = len(one_branch.trainable_weights)
    # Independent branches: one stack, with its own weights, per branch.
    assert len(stacks) == config.branches
    head_weights = 4  # kernel and bias of two Dense layers
    assert len(model.trainable_weights) == len(stacks) * branch_weights + head_weights
