import keras
import numpy as np
import pytest

from multi_output.model import build_model, compile_model


def test_keras_file_round_trip(config, batch, tmp_path):
    inputs, targets = batch
    model = compile_model(build_model(config))
    model.fit(inputs, targets, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")  # safe_mode=True
    for reloaded_output, output in zip(
        keras.tree.flatten(reloaded.predict(inputs, verbose=0)),
        keras.tree.flatten(model.predict(inputs, verbose=0)),
        strict=True,
    ):
        # float32: the reloaded graph may fuse ops differently, so allow rounding.
        np.testing.assert_allclose(reloaded_output, output, rtol=1e-5, atol=1e-7)
    options = {"return_dict": True, "verbose": 0}
    expected = model.evaluate(inputs, targets, **options)
    assert reloaded.evaluate(inputs, targets, **options) == pytest.approx(expected)
