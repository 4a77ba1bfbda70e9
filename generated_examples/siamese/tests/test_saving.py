import inspect
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from siamese.model import build_model, compile_model


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


# The classes this project registers for `.keras` files (model.py imports them all).
PACKAGE = build_model.__module__.partition(".")[0]
REGISTERED = sorted(
    name for name in keras.saving.get_custom_objects() if name.startswith(PACKAGE)
)


def unusual_settings(cls):
    """A value for each of the class's own constructor settings, none a default.

    At their defaults, a setting that `get_config` drops would still come back right.
    """
    if "__init__" not in vars(cls):
        return {}
    settings, required = {}, 2
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name in {"self", "name", "dtype"} or parameter.kind in {
            parameter.VAR_POSITIONAL,
            parameter.VAR_KEYWORD,
        }:
            continue
        default = parameter.default
        if default is parameter.empty:
            settings[name], required = required, required + 1
        elif isinstance(default, float):
            settings[name] = default * 3 + 0.25
        elif isinstance(default, int) and not isinstance(default, bool):
            settings[name] = default + 2
    return settings


@pytest.mark.parametrize("name", REGISTERED)
def test_custom_objects_keep_their_settings_through_serialization(name):
    cls = keras.saving.get_custom_objects()[name]
    settings = unusual_settings(cls)
    original = cls(**settings)
    reloaded = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(original)
    )
    assert type(reloaded) is cls
    for setting, value in settings.items():
        assert getattr(reloaded, setting) == value, f"{name} lost {setting}"


def test_keras_loads_the_saved_model_once_the_package_is_imported(config, tmp_path):
    model = compile_model(build_model(config))
    path = tmp_path / "model.keras"
    model.save(path)
    # A new process: there, only importing the package registers its custom objects.
    code = f"import keras, {PACKAGE}; keras.saving.load_model({str(path)!r})"
    subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).parents[1], check=True
    )
