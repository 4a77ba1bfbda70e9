import numpy as np

from multi_input.model import build_model


def test_output_is_a_distribution_over_classes(config, batch):
    inputs, _ = batch
    probabilities = build_model(config).predict(inputs, verbose=0)
    assert probabilities.shape == (64, config.num_classes)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


def test_one_shared_layer_serves_every_input(config):
    model = build_model(config)
    shared = model.get_layer("shared")
    # One kernel of the common width, whatever the input widths.
    assert shared.kernel.shape == (config.shared_width, config.shared_width)
    # Called once per input, through that input's own projection.
    assert len(shared._inbound_nodes) == len(config.input_widths)
    for name, width in config.input_widths:
        assert model.get_layer(f"project_{name}").kernel.shape == (
            width,
            config.shared_width,
        )
    # Projections, one shared layer and the head: no copy of the shared weights.
    assert len(model.trainable_weights) == 2 * len(config.input_widths) + 2 + 4
