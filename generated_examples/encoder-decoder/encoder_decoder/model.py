"""A sequence-to-sequence model whose encoder and decoder reuse one LSTM layer.

Training uses teacher forcing: the decoder reads the target shifted right by one
(start token first) and predicts the next token at every step. Inference has no
target to read, so `decode_sequence` feeds back its own predictions one step at a
time, from models rebuilt around the same trained layers.
"""

import keras
import numpy as np

from encoder_decoder.config import ModelConfig, TrainConfig

START_TOKEN = 0


def build_model(config: ModelConfig | None = None) -> keras.Model:
    """Map {"source", "decoder_input"} token sequences to next-token probabilities."""
    config = config or ModelConfig()
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    decoder_input = keras.Input(shape=(None,), dtype="int32", name="decoder_input")
    embedding = keras.layers.Embedding(
        config.vocab_size, config.embedding_dim, name="embedding"
    )
    # One recurrent layer, one set of weights: it encodes the source, then decodes
    # from the state the encoding left.
    recurrent = keras.layers.LSTM(
        config.units, return_sequences=True, return_state=True, name="recurrent"
    )
    _, state_h, state_c = recurrent(embedding(source))
    decoded, *_ = recurrent(embedding(decoder_input), initial_state=[state_h, state_c])
    # float32 outputs, whatever the precision policy of the layers before.
    next_token = keras.layers.Dense(
        config.vocab_size, activation="softmax", name="next_token", dtype="float32"
    )(decoded)
    return keras.Model(
        {"source": source, "decoder_input": decoder_input}, next_token, name="seq2seq"
    )


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


def build_inference_models(model: keras.Model) -> tuple[keras.Model, keras.Model]:
    """An encoder (source -> state) and a one-step decoder, sharing `model`'s layers."""
    embedding = model.get_layer("embedding")
    recurrent = model.get_layer("recurrent")
    next_token = model.get_layer("next_token")

    source = keras.Input(shape=(None,), dtype="int32", name="source")
    _, *encoded_state = recurrent(embedding(source))
    encoder = keras.Model(source, encoded_state, name="encoder")

    token = keras.Input(shape=(1,), dtype="int32", name="token")
    state = [
        keras.Input(shape=(recurrent.units,), name=f"state_{index}")
        for index in range(len(encoded_state))
    ]
    decoded, *new_state = recurrent(embedding(token), initial_state=state)
    decoder = keras.Model(
        [token, *state], [next_token(decoded), *new_state], name="decoder"
    )
    return encoder, decoder


def decode_sequence(
    encoder: keras.Model, decoder: keras.Model, source: np.ndarray, length: int
) -> np.ndarray:
    """Greedy decoding: feed back the most likely token, `length` steps, batched."""
    state = keras.tree.flatten(encoder.predict(source, verbose=0))
    token = np.full((len(source), 1), START_TOKEN, dtype="int32")
    decoded = []
    for _ in range(length):
        probabilities, *state = decoder.predict([token, *state], verbose=0)
        token = probabilities.argmax(axis=-1).astype("int32")
        decoded.append(token)
    return np.concatenate(decoded, axis=1)
