"""A classifier whose parallel branches read one input and merge into one head."""

import keras

from so2.config import ModelConfig, TrainConfig
from so2.data import Data
from so2.layers import WeightedAverage


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
    merged = WeightedAverage(name="merge")(branch_outputs)
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
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        steps_per_execution=config.steps_per_execution,
    )
    return model


def adapt(model: keras.Model, data: Data) -> keras.Model:
    """Fit the model's preprocessing layers to the training data; return the model.

    `normalize` learns each feature's mean and variance, so that the saved model
    takes raw features.
    """
    inputs, _ = data
    model.get_layer("normalize").adapt(inputs["features"])
    return model
