import numpy as np

from encoder_decoder.config import START, UNKNOWN
from encoder_decoder.model import (
    build_inference_models,
    build_model,
    decode_sequence,
    exact_match,
    most_likely_tokens,
)


def test_one_distribution_per_target_token(config, batch):
    inputs, target, _ = batch
    probabilities = build_model(config).predict(inputs, verbose=0)
    assert probabilities.shape == (*target.shape, config.target_vocab_size)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


def test_encoder_and_decoder_share_one_recurrent_layer(config):
    model = build_model(config)
    recurrent = model.get_layer("recurrent")
    # Called twice (encoder, decoder), with a single set of weights: the model's
    # config lists each call of a layer.
    calls = {
        layer["name"]: len(layer["inbound_nodes"])
        for layer in model.get_config()["layers"]
    }
    assert calls["recurrent"] == 2
    # Two embeddings, the recurrent layer's weights, the output kernel and bias.
    assert len(model.trainable_weights) == 2 + len(recurrent.trainable_weights) + 2


def test_decode_sequence_matches_teacher_forcing_on_its_own_output(config, batch):
    # Decoding greedily, then scoring that output with teacher forcing, must give
    # the same tokens at every step: the two paths run the same layers.
    inputs, target, _ = batch
    model = build_model(config)
    encoder, decoder = build_inference_models(model)
    length = target.shape[1]
    decoded = decode_sequence(encoder, decoder, inputs["source"], length)
    assert decoded.shape == (64, length)
    start = np.full((64, 1), START, "int32")
    shifted = np.concatenate([start, decoded[:, :-1]], axis=1)
    forced = model.predict(
        {"source": inputs["source"], "decoder_input": shifted}, verbose=0
    )
    np.testing.assert_array_equal(most_likely_tokens(forced), decoded)


def test_exact_match_counts_pairs_decoded_whole(config, batch):
    inputs, target, weights = batch
    model = build_model(config)
    encoder, decoder = build_inference_models(model)
    next_token_bias = np.zeros(config.target_vocab_size, "float32")
    next_token_bias[UNKNOWN] = -100.0  # the model never writes [unk]
    model.get_layer("next_token").bias.assign(next_token_bias)
    # Targets the model decodes exactly, then half of them with one token changed.
    decoded = decode_sequence(encoder, decoder, inputs["source"], target.shape[1])
    assert exact_match(model, [(inputs, decoded, weights)]) == 1.0
    changed = decoded.copy()
    changed[::2, -1] = np.where(changed[::2, -1] == 4, 5, 4)
    assert exact_match(model, [(inputs, changed, weights)]) == 0.5
    # A target with a word outside the vocabulary: its text is never written,
    # though the model writes [unk] in its place.
    next_token_bias[UNKNOWN] = 100.0
    model.get_layer("next_token").bias.assign(next_token_bias)
    unknown = decode_sequence(encoder, decoder, inputs["source"], target.shape[1])
    assert (unknown == UNKNOWN).all()
    assert exact_match(model, [(inputs, unknown, weights)]) == 0.0
