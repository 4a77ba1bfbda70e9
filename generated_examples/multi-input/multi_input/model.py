"""A classifier that applies one shared layer to several inputs of different widths.

A Dense kernel has a single input width, so one layer cannot read inputs of widths
that differ. Each input first gets its own adapter to a common width; the shared
layer (one instance, one set of weights) is then applied to every adapter's output.
The adapters are nonlinear: a linear adapter times the shared kernel is just another
free matrix per input, and the "shared" layer would constrain nothing.
"""

import keras
import numpy as np

from multi_input.config import ModelConfig, TrainConfig


def build_model(config: ModelConfig | None = None) -> keras.Model:
    """Map the inputs, a dict keyed by input name, to class probabilities."""
    config = config or ModelConfig()
    inputs = {
        name: keras.Input(shape=(width,), name=name)
        for name, width in config.input_widths
    }
    shared = keras.layers.Dense(
        config.shared_width, activation=config.activation, name="shared"
    )
    features = []
    for name, tensor in inputs.items():
        # Raw features in, each scaled by statistics that `adapt` sets.
        normalized = keras.layers.Normalization(name=f"normalize_{name}")(tensor)
        adapter = keras.layers.Dense(
            config.shared_width, activation=config.activation, name=f"adapt_{name}"
        )
        features.append(shared(adapter(normalized)))
    merged = keras.layers.Concatenate(name="merge")(features)
    hidden = keras.layers.Dense(
        config.shared_width, activation=config.activation, name="head"
    )(merged)
    # float32 outputs, whatever the precision policy of the layers before.
    probabilities = keras.layers.Dense(
        config.num_classes,
        activation="softmax",
        name="class_probabilities",
        dtype="float32",
    )(hidden)
    return keras.Model(inputs, probabilities, name="multi_input")


def adapt(model: keras.Model, data: tuple) -> keras.Model:
    """Fit the model's preprocessing layers to the training data; return the model.

    Each input's `normalize_<name>` learns its features' mean and variance, so that
    the saved model takes raw features.
    """
    inputs, _ = data
    for name, values in inputs.items():
        fit_normalization(model.get_layer(f"normalize_{name}"), values)
    return model


def fit_normalization(layer: keras.layers.Normalization, values: np.ndarray) -> None:
    """Adapt `layer` to the training `values`; a feature constant in them is centred.

    The layer divides by each feature's standard deviation. For a feature that never
    varies in the training data that is 0 (Keras takes 1e-7), and any other value
    met later would be blown up ten million times: it is taken as 1 instead.
    """
    axes = tuple(range(values.ndim - 1))  # all but the last: features or channels
    mean = values.mean(axis=axes, keepdims=True, dtype="float64")
    std = values.std(axis=axes, keepdims=True, dtype="float64")
    std = np.where(std > 1e-5, std, 1.0)
    # `adapt` learns the mean and variance of its data: two rows, mean - std and
    # mean + std, have exactly these.
    layer.adapt(np.concatenate([mean - std, mean + std]))


def compile_model(model: keras.Model, config: TrainConfig | None = None) -> keras.Model:
    """Attach the optimizer, the cross-entropy loss and the accuracy metric."""
    config = config or TrainConfig()
    model.compile(
        optimizer=keras.optimizers.AdamW(
            config.learning_rate, weight_decay=config.weight_decay
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        steps_per_execution=config.steps_per_execution,
    )
    return model
