"""A sequence-to-sequence model whose encoder and decoder reuse one LSTM layer.

Training uses teacher forcing: the decoder reads the target shifted right by one
(start token first) and predicts the next token at every step. Inference has no
target to read, so `decode_sequence` feeds back its own predictions one step at a
time, from models rebuilt around the same trained layers.

Token 0 pads sequences: the embeddings mask it (`mask_zero=True`), so the encoder
skips padding and padded target steps weigh nothing in the loss.
"""

from collections.abc import Iterable

import keras
import numpy as np

from encoder_decoder.config import PAD, START, UNKNOWN, ModelConfig, TrainConfig


def build_model(config: ModelConfig | None = None) -> keras.Model:
    """Map {"source", "decoder_input"} token sequences to next-token probabilities."""
    config = config or ModelConfig()
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    decoder_input = keras.Input(shape=(None,), dtype="int32", name="decoder_input")
    # Each side has its own vocabulary, so its own embedding; 0 is padding.
    source_embedding = keras.layers.Embedding(
        config.source_vocab_size,
        config.embedding_dim,
        mask_zero=True,
        name="source_embedding",
    )
    target_embedding = keras.layers.Embedding(
        config.target_vocab_size,
        config.embedding_dim,
        mask_zero=True,
        name="target_embedding",
    )
    # One recurrent layer, one set of weights: it encodes the source, then decodes
    # from the state the encoding left.
    encoder = decoder = keras.layers.LSTM(
        config.units, return_sequences=True, return_state=True, name="recurrent"
    )
    _, *state = encoder(source_embedding(source))
    decoded, *_ = decoder(target_embedding(decoder_input), initial_state=state)
    # float32 outputs, whatever the precision policy of the layers before.
    next_token = keras.layers.Dense(
        config.target_vocab_size,
        activation="softmax",
        name="next_token",
        dtype="float32",
    )(decoded)
    return keras.Model(
        {"source": source, "decoder_input": decoder_input}, next_token, name="seq2seq"
    )


def compile_model(model: keras.Model, config: TrainConfig | None = None) -> keras.Model:
    """Attach the optimizer, the cross-entropy loss and the token accuracy.

    The data weighs padded target steps 0 (see data.as_data); the accuracy is a
    weighted metric, so it counts real tokens only.
    """
    config = config or TrainConfig()
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        steps_per_execution=config.steps_per_execution,
    )
    return model


def build_inference_models(model: keras.Model) -> tuple[keras.Model, keras.Model]:
    """An encoder (source -> state) and a one-step decoder, sharing `model`'s layers."""
    source_embedding = model.get_layer("source_embedding")
    target_embedding = model.get_layer("target_embedding")
    encoder_layer = decoder_layer = model.get_layer("recurrent")
    next_token = model.get_layer("next_token")

    source = keras.Input(shape=(None,), dtype="int32", name="source")
    _, *encoded_state = encoder_layer(source_embedding(source))
    encoder = keras.Model(source, encoded_state, name="encoder")

    token = keras.Input(shape=(1,), dtype="int32", name="token")
    state = [
        keras.Input(shape=(decoder_layer.units,), name=f"state_{index}")
        for index in range(len(encoded_state))
    ]
    decoded, *new_state = decoder_layer(target_embedding(token), initial_state=state)
    decoder = keras.Model(
        [token, *state], [next_token(decoded), *new_state], name="decoder"
    )
    return encoder, decoder


def most_likely_tokens(probabilities: np.ndarray) -> np.ndarray:
    """The most likely token of each step, never padding or the start token."""
    probabilities = np.array(probabilities)
    probabilities[..., [PAD, START]] = -1.0
    return probabilities.argmax(axis=-1).astype("int32")


def decode_sequence(
    encoder: keras.Model,
    decoder: keras.Model,
    source: np.ndarray,
    length: int,
    batch_size: int = 256,
) -> np.ndarray:
    """Greedy decoding: feed back the most likely token, `length` steps, batched.

    A sequence ends at its first end token; the steps after it are left as decoded.
    """
    state = encoder.predict(source, batch_size=batch_size, verbose=0)
    state = keras.tree.flatten(state)
    token = np.full((len(source), 1), START, dtype="int32")
    decoded = []
    for _ in range(length):
        probabilities, *state = decoder.predict(
            [token, *state], batch_size=batch_size, verbose=0
        )
        token = most_likely_tokens(probabilities)
        decoded.append(token)
    return np.concatenate(decoded, axis=1)


def exact_match(
    model: keras.Model,
    chunks: Iterable[tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]],
    batch_size: int = 256,
) -> float:
    """The share of pairs whose greedy decoding is their target text, as `predict`
    writes it: every token up to the end token, none of them unknown (the text of
    a target with a word outside the vocabulary is never written). `chunks`: the
    pairs, in one chunk or more (`tools.streaming.in_chunks` reads a stream's).

    Unlike the token accuracy, measured with teacher forcing (the decoder reading
    the true previous tokens), this is the model decoding on its own, as in use.
    """
    encoder, decoder = build_inference_models(model)
    right = []
    for inputs, target, _ in chunks:
        length = target.shape[1]
        source = inputs["source"]
        decoded = decode_sequence(encoder, decoder, source, length, batch_size)
        matched = ((decoded == target) | (target == PAD)) & (target != UNKNOWN)
        right.append(matched.all(axis=1))
    return float(np.concatenate(right).mean())
