import keras
import numpy as np
import pytest

from multi_output.config import HEADS
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
    # (keras-team/keras#20596, #22625): recompute every logged value by hand,
    # with a different loss weight per head so that a swapped weight shows.
    inputs, targets = batch
    weights = {name: 0.5 + index for index, name in enumerate(HEADS)}
    model = compile_model(build_model(config), loss_weights=weights)
    results = model.evaluate(
        inputs, targets, batch_size=64, return_dict=True, verbose=0
    )
    predictions = model.predict(inputs, batch_size=64, verbose=0)
    total = 0.0
    for name, classes in HEADS.items():
        if classes:
            labels, probabilities = targets[name], predictions[name]
            loss = -np.mean(np.log(probabilities[np.arange(64), labels]))
            metric = "accuracy", np.mean(probabilities.argmax(axis=-1) == labels)
        else:
            errors = predictions[name] - targets[name]
            loss = np.mean(errors**2)
            metric = "mae", np.mean(np.abs(errors))
        assert results[f"{name}_loss"] == pytest.approx(loss, rel=1e-4)
        assert results[f"{name}_{metric[0]}"] == pytest.approx(metric[1], rel=1e-4)
        total += weights[name] * loss
    assert results["loss"] == pytest.approx(total, rel=1e-4)
