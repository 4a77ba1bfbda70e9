import keras
import numpy as np

from multi_input.model import build_model, compile_model


def test_every_weight_gets_a_gradient(config, batch):
    model = compile_model(build_model(config))
    # Every weight is meant to learn, but the statistics that `adapt` sets in the
    # Normalization layers: none other may be frozen, and each gets a gradient.
    frozen = {weight.name for weight in model.non_trainable_weights}
    assert frozen <= {"mean", "variance", "count"}
    # One plain SGD step moves each weight by -lr * gradient: a weight that
    # stays put received no gradient.
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=model.loss)
    before = [weight.numpy().copy() for weight in model.trainable_weights]
    model.train_on_batch(*batch)
    for weight, old in zip(model.trainable_weights, before, strict=True):
        assert not np.array_equal(weight.numpy(), old), f"{weight.path} got no gradient"
