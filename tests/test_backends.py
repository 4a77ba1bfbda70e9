"""Generated code is backend-agnostic Keras 3: it runs on JAX as well as TensorFlow.

The rest of the suite runs the generated projects on TensorFlow; here each pattern
(and the variants with custom layers) builds, takes train steps, saves and reloads
with KERAS_BACKEND=jax. Only the data pipeline (tf.data) still uses TensorFlow.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import PATTERNS, private_copy

pytestmark = pytest.mark.slow

VARIANTS = [(pattern,) for pattern in PATTERNS] + [
    ("siamese", "--scale-out"),
    (
        "parallel",
        "--branches",
        "3",
        "--branch-outputs",
        "--merge",
        "weighted_average",
        "--output-transform",
        "clip",
    ),
    (
        "parallel",
        "--shared-weights",
        "--merge",
        "subtract",
        "--output-transform",
        "log",
    ),
    (
        "--input-shape",
        "12x12x3",
        "--distance",
        "cosine",
        "--output-transform",
        "scale_shift",
    ),
]


@pytest.mark.parametrize("flags", VARIANTS, ids="-".join)
def test_the_project_runs_on_jax(render_project, flags, tmp_path) -> None:
    pytest.importorskip("jax")
    project = private_copy(render_project(*flags), tmp_path)
    tests = [
        "tests/test_model.py",
        "tests/test_gradients.py",  # one SGD step: every weight moves
        "tests/test_saving.py",  # fit, save, reload with safe_mode
    ]
    if (project / "tests" / "test_serving.py").is_file():
        tests.append("tests/test_serving.py")
    if (project / "tests" / "test_scaling.py").is_file():
        # Mixed precision and the strategy errors on JAX; test_end_to_end runs the rest.
        tests += [
            "tests/test_scaling.py::test_mixed_precision_keeps_float32_outputs",
            "tests/test_scaling.py::test_a_strategy_of_another_backend_is_a_clear_error",
        ]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stdout[-3000:]
    probe = subprocess.run(
        [sys.executable, "-c", "import keras; print(keras.backend.backend())"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    assert probe.stdout.strip() == "jax"
