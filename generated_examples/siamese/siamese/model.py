"""The siamese network: one encoder instance embeds both inputs of a pair."""

import keras

from siamese.config import ModelConfig, TrainConfig
from siamese.layers import EuclideanDistance
from siamese.losses import ContrastiveLoss
from siamese.metrics import DistanceAccuracy


def build_encoder(config: ModelConfig) -> keras.Model:
    """Map one input to its embedding."""
    inputs = keras.Input(shape=config.input_shape, name="item")
    x = inputs
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


def compile_model(model: keras.Model, config: TrainConfig | None = None) -> keras.Model:
    """Attach the optimizer, the loss and the pair accuracy metric."""
    config = config or TrainConfig()
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=ContrastiveLoss(margin=config.margin),
        # Pairs closer than half the margin are called "same".
        metrics=[DistanceAccuracy(threshold=config.margin / 2)],
        steps_per_execution=config.steps_per_execution,
    )
    return model
