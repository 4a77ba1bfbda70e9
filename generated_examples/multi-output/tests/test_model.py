import keras
import numpy as np
import pytest

from multi_output.data import HEADS
from multi_output.model import build_model, compile_model


def test_one_named_output_per_head(config, batch):
    inputs, _ = batch
    predictions = build_model(config).predict(inputs, verbose=0)
    assert set(predictions) == set(HEADS)
    for name, classes in HEADS.items():
        assert predictions[name].shape == (64, classes or 1)


def test_heads_share_one_trunk(config):
    model = build_model(config)
    stacks = [layer for layer in model.layers if isinstance(layer, keras.Sequential)]
    assert [stack.name for stack in stacks] == ["trunk"]
    # The trunk's weights, plus a kernel and a bias per head.
    assert len(model.trainable_weights) == 2 * config.trunk_depth + 2 * len(HEADS)


def test_each_head_reports_its_own_loss_and_metric(config, batch):
    # Keras releases have routed dict losses and metrics to the wrong head
    # (keras-team/keras#20596, #22625): recompute every logged value by hand.
    inputs, targets = batch
    model = compile_model(build_model(config))
    results = model.evaluate(
        inputs, targets, batch_size=64, return_dict=True, verbose=0
    )
    predictions = model.predict(inputs, batch_size=64, verbose=0)
    total = 0.0
    errors = predictions["score"] - targets["score"]
    loss = np.mean(errors**2)
    assert results["score_loss"] == pytest.approx(loss, rel=1e-4)
    assert results["score_mae"] == pytest.approx(np.mean(np.abs(errors)), rel=1e-4)
    total += 1.0 * loss
    labels, probabilities = targets["category"], predictions["category"]
    loss = -np.mean(np.log(probabilities[np.arange(64), labels]))
    accuracy = np.mean(probabilities.argmax(axis=-1) == labels)
    assert results["category_loss"] == pytest.approx(loss, rel=1e-4)
    assert results["category_accuracy"] == pytest.approx(accuracy)
    total += 1.0 * loss
    assert results["loss"] == pytest.approx(total, rel=1e-4)
