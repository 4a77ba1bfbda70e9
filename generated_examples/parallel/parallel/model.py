"""A classifier whose parallel branches read one input and merge into one head."""

import keras
import numpy as np

from parallel.config import ModelConfig, TrainConfig


def build_branch(config: ModelConfig, name: str) -> keras.Sequential:
    """One branch: a stack of Dense layers."""
    return keras.Sequential(
        [
            keras.layers.Dense(config.branch_width, activation=config.activation)
            for _ in range(config.branch_depth)
        ],
        name=name,
    )


def build_model(config: ModelConfig | None = None) -> keras.Model:
    """Map `features` to class probabilities through the parallel branches."""
    config = config or ModelConfig()
    features = keras.Input(shape=config.input_shape, name="features")
    normalized = keras.layers.Normalization(name="normalize")(features)
    branch_outputs = [
        build_branch(config, name=f"branch_{index}")(normalized)
        for index in range(config.branches)
    ]
    merged = keras.layers.Concatenate(name="merge")(branch_outputs)
    hidden = keras.layers.Dense(
        config.branch_width, activation=config.activation, name="head"
    )(merged)
    # float32 outputs, whatever the precision policy of the layers before.
    probabilities = keras.layers.Dense(
        config.num_classes,
        activation="softmax",
        name="class_probabilities",
        dtype="float32",
    )(hidden)
    return keras.Model({"features": features}, probabilities, name="parallel")


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


def adapt(model: keras.Model, data: tuple) -> keras.Model:
    """Fit the model's preprocessing layers to the training data; return the model.

    `normalize` learns each feature's mean and variance, so that the saved model
    takes raw features.
    """
    inputs, _ = data
    fit_normalization(model.get_layer("normalize"), inputs["features"])
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
