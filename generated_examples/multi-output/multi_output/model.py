"""A model with one shared trunk and 2 named output heads.

Each head is an output named after it; losses, loss weights and metrics are given to
`compile` as dicts keyed by those names, and training logs `<head>_loss` and
`<head>_<metric>` for each.
"""

import keras
import numpy as np

from multi_output.config import HEADS, LOSS_WEIGHTS, ModelConfig, TrainConfig


def build_trunk(config: ModelConfig) -> keras.Sequential:
    """The layers every head shares."""
    return keras.Sequential(
        [
            keras.layers.Dense(config.trunk_width, activation=config.activation)
            for _ in range(config.trunk_depth)
        ],
        name="trunk",
    )


def classification_head(
    name: str, num_classes: int, inputs: keras.KerasTensor
) -> keras.KerasTensor:
    """Probabilities over `num_classes` classes."""
    return keras.layers.Dense(
        num_classes, activation="softmax", name=name, dtype="float32"
    )(inputs)


def regression_head(name: str, inputs: keras.KerasTensor) -> keras.KerasTensor:
    """One real value, in the units of the head's target.

    The Dense layer predicts the standardized target; the inverted Normalization
    layer, whose mean and variance `adapt` sets, returns it in the target's units.
    """
    standardized = keras.layers.Dense(1, name=f"{name}_standardized")(inputs)
    return keras.layers.Normalization(invert=True, name=name, dtype="float32")(
        standardized
    )


def build_model(config: ModelConfig | None = None) -> keras.Model:
    """Map `features` to a dict of outputs, one per head, each named after it."""
    config = config or ModelConfig()
    features = keras.Input(shape=config.input_shape, name="features")
    normalized = keras.layers.Normalization(name="normalize")(features)
    shared = build_trunk(config)(normalized)
    # Heads end in float32, whatever the precision policy of the layers before.
    outputs = {
        name: (
            classification_head(name, classes, shared)
            if classes
            else regression_head(name, shared)
        )
        for name, classes in config.heads.items()
    }
    return keras.Model({"features": features}, outputs, name="multi_output")


def adapt(model: keras.Model, data: tuple) -> keras.Model:
    """Fit the model's preprocessing layers to the training data; return the model.

    `normalize` learns each feature's mean and variance, and each regression head
    its target's, so that the saved model takes raw features and predicts in the
    targets' units.
    """
    inputs, targets = data
    fit_normalization(model.get_layer("normalize"), inputs["features"])
    for name, classes in HEADS.items():
        if not classes:
            fit_normalization(model.get_layer(name), targets[name])
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


def scaled_loss_weights(
    model: keras.Model, loss_weights: dict[str, float]
) -> dict[str, float]:
    """`loss_weights`, each regression head's divided by its target's variance.

    A squared error grows with the square of its target's units; divided by the
    variance it is the error on the standardized target, so that no head swamps
    another, whatever their units.
    """
    weights = dict(loss_weights)
    for name, classes in HEADS.items():
        if not classes:
            variance = keras.ops.convert_to_numpy(model.get_layer(name).variance)
            weights[name] /= float(variance.squeeze())
    return weights


def head_loss(classes: int) -> keras.losses.Loss:
    """Cross-entropy for a head over `classes` classes; squared error if 0."""
    if classes:
        return keras.losses.SparseCategoricalCrossentropy()
    return keras.losses.MeanSquaredError()


def head_metrics(classes: int) -> list[keras.metrics.Metric]:
    """Logged next to a head's loss: `<head>_accuracy`, or `<head>_mae` if 0."""
    if classes:
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    return [keras.metrics.MeanAbsoluteError(name="mae")]


def compile_model(
    model: keras.Model,
    config: TrainConfig | None = None,
    loss_weights: dict[str, float] | None = None,
) -> keras.Model:
    """Attach the optimizer, and per head its loss, loss weight and metrics.

    Each is a dict keyed by head name; `loss_weights` defaults to LOSS_WEIGHTS.
    Call it after `adapt`: the regression heads' weights take their targets' scale.
    """
    config = config or TrainConfig()
    model.compile(
        optimizer=keras.optimizers.AdamW(
            config.learning_rate, weight_decay=config.weight_decay
        ),
        loss={name: head_loss(classes) for name, classes in HEADS.items()},
        loss_weights=scaled_loss_weights(model, loss_weights or LOSS_WEIGHTS),
        metrics={name: head_metrics(classes) for name, classes in HEADS.items()},
        steps_per_execution=config.steps_per_execution,
    )
    return model
