"""The siamese network: one encoder instance embeds both inputs of a pair."""

import keras
import numpy as np

from siamese.config import ModelConfig, TrainConfig
from siamese.layers import EuclideanDistance
from siamese.losses import ContrastiveLoss
from siamese.metrics import DistanceAccuracy, DistanceAUC


def build_encoder(config: ModelConfig) -> keras.Model:
    """Map one input to its embedding."""
    inputs = keras.Input(shape=config.input_shape, name="item")
    # Raw items in, each feature (or channel) scaled by statistics that `adapt` sets.
    x = keras.layers.Normalization(name="normalize")(inputs)
    for _ in range(config.encoder_depth):
        x = keras.layers.Dense(config.encoder_width, activation="relu")(x)
    # No bias: it would cancel out in the difference of the two embeddings.
    embedding = keras.layers.Dense(
        config.embedding_dim, use_bias=False, name="embedding"
    )(x)
    return keras.Model(inputs, embedding, name="encoder")


def build_model(config: ModelConfig | None = None) -> keras.Model:
    """Map a pair {"left", "right"} to the distance between its embeddings."""
    config = config or ModelConfig()
    left = keras.Input(shape=config.input_shape, name="left")
    right = keras.Input(shape=config.input_shape, name="right")
    encoder = build_encoder(config)
    # float32 distances, whatever the precision policy of the layers before.
    distance = EuclideanDistance(name="distance", dtype="float32")(
        [encoder(left), encoder(right)]
    )
    return keras.Model({"left": left, "right": right}, distance, name="siamese")


def adapt(model: keras.Model, data: tuple) -> keras.Model:
    """Fit the encoder's Normalization layer to the training items; return the model.

    It learns each feature's (or channel's) mean and variance, so that the saved
    model takes raw items.
    """
    inputs, _ = data
    items = inputs.get("items")
    if items is None:  # a pair file: both sides
        items = np.concatenate([inputs["left"], inputs["right"]])
    fit_normalization(model.get_layer("encoder").get_layer("normalize"), items)
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


def choose_threshold(model: keras.Model, pairs, same: np.ndarray) -> float:
    """The distance below which the most `pairs` are called right as "same".

    `pairs`: their inputs, or batches of them; `same`: 1.0 where they are the same.
    """
    scores = model.predict(pairs, verbose=0).reshape(-1)
    order = np.argsort(scores)
    scores, same = scores[order], same[order]
    # Calling the k lowest "same": right are the same pairs among them and the
    # different pairs after them, for k = 0 .. n.
    same_below = np.concatenate([[0.0], np.cumsum(same)])
    different_above = (1 - same).sum() - np.concatenate([[0.0], np.cumsum(1 - same)])
    k = int(np.argmax(same_below + different_above))
    edges = np.concatenate([[scores[0] - 1.0], scores, [scores[-1] + 1.0]])
    cut = float((edges[k] + edges[k + 1]) / 2)  # halfway between neighbours
    return cut


def default_threshold(config: TrainConfig) -> float:
    """The "same" threshold before any validation pair is seen: half the margin."""
    return config.margin / 2


def pair_accuracy(threshold: float) -> keras.metrics.Metric:
    """The share of pairs called right, "same" meaning closer than `threshold`."""
    return DistanceAccuracy(threshold=threshold)


def roc_auc() -> keras.metrics.Metric:
    """ROC AUC of the distance: no threshold needed."""
    return DistanceAUC()


def compile_model(model: keras.Model, config: TrainConfig | None = None) -> keras.Model:
    """Attach the optimizer, the loss and the pair accuracy (default threshold)."""
    config = config or TrainConfig()
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=ContrastiveLoss(margin=config.margin),
        metrics=[pair_accuracy(default_threshold(config))],
        steps_per_execution=config.steps_per_execution,
    )
    return model


def set_threshold(
    model: keras.Model, threshold: float, config: TrainConfig
) -> keras.Model:
    """Recompile a trained model to call pairs "same" by `threshold`, for evaluation.

    It also reports the ROC AUC, which would cost a third of the training speed if
    computed on every training batch. The optimizer and its state stay, so that
    the saved model loads whole.
    """
    model.compile(
        optimizer=model.optimizer,
        loss=model.loss,
        metrics=[pair_accuracy(threshold), roc_auc()],
        steps_per_execution=config.steps_per_execution,
    )
    return model
