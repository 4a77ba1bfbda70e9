"""A classifier that applies one shared layer to several inputs of different widths.

A Dense kernel has a single input width, so one layer cannot read inputs of widths
that differ. Each input first gets its own adapter to a common width; the shared
layer (one instance, one set of weights) is then applied to every adapter's output.
The adapters are nonlinear: a linear adapter times the shared kernel is just another
free matrix per input, and the "shared" layer would constrain nothing.
"""

import keras

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
    features = [
        shared(
            keras.layers.Dense(
                config.shared_width, activation=config.activation, name=f"adapt_{name}"
            )(tensor)
        )
        for name, tensor in inputs.items()
    ]
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


def compile_model(model: keras.Model, config: TrainConfig | None = None) -> keras.Model:
    """Attach the optimizer, the cross-entropy loss and the accuracy metric."""
    config = config or TrainConfig()
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        steps_per_execution=config.steps_per_execution,
    )
    return model
