import numpy as np

from siamese.model import build_encoder, build_model


def test_output_shapes(config, batch):
    inputs, _ = batch
    model = build_model(config)
    assert model.predict(inputs, verbose=0).shape == (64, 1)
    embeddings = build_encoder(config).predict(inputs["left"], verbose=0)
    assert embeddings.shape == (64, config.embedding_dim)


def test_both_inputs_share_one_encoder(config, batch):
    model = build_model(config)
    one_encoder = len(build_encoder(config).trainable_weights)
    assert len(model.trainable_weights) == one_encoder
    # Shared weights make the model symmetric in its two inputs.
    inputs, _ = batch
    swapped = {"left": inputs["right"], "right": inputs["left"]}
    np.testing.assert_allclose(
        model.predict(swapped, verbose=0), model.predict(inputs, verbose=0), rtol=1e-5
    )
