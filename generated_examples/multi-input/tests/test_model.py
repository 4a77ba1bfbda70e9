import keras
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
    # Called once per input, through that input's own adapter: the model's config
    # lists each call of a layer.
    calls = {
        layer["name"]: len(layer["inbound_nodes"])
        for layer in model.get_config()["layers"]
    }
    assert calls["shared"] == len(config.input_widths)
    for name, width in config.input_widths:
        assert model.get_layer(f"adapt_{name}").kernel.shape == (
            width,
            config.shared_width,
        )
    # Adapters, one shared layer and the head: no copy of the shared weights.
    assert len(model.trainable_weights) == 2 * len(config.input_widths) + 2 + 4


def test_adapters_are_nonlinear(config, batch):
    # A linear adapter A folds into the shared kernel W (x @ A @ W = x @ (A @ W)),
    # leaving a free matrix per input: sharing W would constrain nothing. A linear
    # map is additive, f(a + b) - f(0) = (f(a) - f(0)) + (f(b) - f(0)); an adapter
    # must not be.
    inputs, _ = batch
    model = build_model(config)
    for name, _ in config.input_widths:
        adapter = model.get_layer(f"adapt_{name}")
        a, b = inputs[name][:32], inputs[name][32:]
        zero, f_a, f_b, f_sum = (
            keras.ops.convert_to_numpy(adapter(x)) for x in (0 * a, a, b, a + b)
        )
        joint, apart = f_sum - zero, f_a + f_b - 2 * zero
        assert not np.allclose(joint, apart, atol=1e-4), f"{adapter.name} is linear"
