import numpy as np

from encoder_decoder.model import build_inference_models, build_model, decode_sequence


def test_one_distribution_per_target_token(config, batch):
    inputs, _ = batch
    probabilities = build_model(config).predict(inputs, verbose=0)
    assert probabilities.shape == (64, config.sequence_length, config.vocab_size)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


def test_encoder_and_decoder_share_one_recurrent_layer(config):
    model = build_model(config)
    recurrent = model.get_layer("recurrent")
    # Called twice (encoder, decoder), with a single set of weights.
    assert len(recurrent._inbound_nodes) == 2
    # The embedding, the recurrent layer's weights, the output kernel and bias.
    assert len(model.trainable_weights) == 1 + len(recurrent.trainable_weights) + 2


def test_decode_sequence_matches_teacher_forcing_on_its_own_output(config, batch):
    # Decoding greedily, then scoring that output with teacher forcing, must give
    # the same argmax at every step: the two paths run the same layers.
    inputs, _ = batch
    model = build_model(config)
    encoder, decoder = build_inference_models(model)
    decoded = decode_sequence(
        encoder, decoder, inputs["source"], config.sequence_length
    )
    assert decoded.shape == (64, config.sequence_length)
    shifted = np.concatenate([np.zeros((64, 1), "int32"), decoded[:, :-1]], axis=1)
    forced = model.predict(
        {"source": inputs["source"], "decoder_input": shifted}, verbose=0
    )
    np.testing.assert_array_equal(forced.argmax(axis=-1), decoded)
