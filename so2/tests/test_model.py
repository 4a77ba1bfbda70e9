import keras
import numpy as np
import pytest

from so2.layers import WeightedAverage
from so2.model import build_branch, build_model


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
    head_weights = 4 + 1  # two Dense layers, plus the merge's branch logits
    assert len(model.trainable_weights) == len(stacks) * branch_weights + head_weights


def test_weighted_average_learns_normalised_weights():
    layer = WeightedAverage()
    first, second = np.ones((2, 3), "float32"), 3 * np.ones((2, 3), "float32")

    def average():
        return keras.ops.convert_to_numpy(layer([first, second]))

    # Zero logits at the start: a plain average.
    np.testing.assert_allclose(average(), 2 * np.ones((2, 3)))
    layer.branch_logits.assign([np.log(3.0), 0.0])  # softmax -> (0.75, 0.25)
    np.testing.assert_allclose(average(), 1.5 * np.ones((2, 3)), rtol=1e-6)
    assert [w.name for w in layer.trainable_weights] == ["branch_logits"]
    with pytest.raises(AttributeError):
        layer.weights = []  # a read-only property in Keras 3
