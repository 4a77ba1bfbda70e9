"""Mixed precision, scale-out strategies and the JAX backend.

A process fixes its device layout and its backend when it starts, so the strategy
tests train in fresh Python processes. The training runs here are marked slow:
`pytest -m "not slow"` skips them for a quick loop.
"""

import importlib.util
import json
import math
import os
import socket
import subprocess
import sys

import keras
import pytest

from encoder_decoder.config import TrainConfig
from encoder_decoder.distribute import worker_output_dir
from encoder_decoder.train import train

# Split the one CPU into two logical devices before TensorFlow starts, then train.
TWO_CPU_DEVICES = """
import sys

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

from encoder_decoder.train import main

main(sys.argv[1:])
"""
QUICK_RUN = ["--epochs", "2", "--steps-per-epoch", "16", "--batch-size", "32"]
needs_jax = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="needs jax (the dev extra)"
)


def training_process(code, flags, output_dir, **environment):
    """The command line and environment of a quick training run in a fresh process."""
    command = [sys.executable, *code, *QUICK_RUN, *flags]
    command += ["--output-dir", str(output_dir)]
    return command, {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **environment}


def run_training(code, flags, output_dir, **environment):
    """Run the train command in a fresh process and return its stdout."""
    command, env = training_process(code, flags, output_dir, **environment)
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((output_dir / "metrics.json").read_text())
    assert all(math.isfinite(value) for value in metrics.values()), metrics
    return result.stdout


@pytest.fixture
def restore_precision():
    policy = keras.config.dtype_policy()
    yield
    keras.config.set_dtype_policy(policy)


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_keeps_float32_outputs(precision, tmp_path, restore_precision):
    config = TrainConfig(
        epochs=1, steps_per_epoch=16, precision=precision, output_dir=str(tmp_path)
    )
    results = train(config)
    assert all(math.isfinite(value) for value in results.values()), results
    model = keras.models.load_model(tmp_path / "best.keras")
    assert model.dtype_policy.name == precision
    assert {output.dtype for output in keras.tree.flatten(model.output)} == {"float32"}


@pytest.mark.slow
def test_mirrored_strategy_trains_on_two_devices(tmp_path):
    stdout = run_training(
        ["-c", TWO_CPU_DEVICES],
        ["--strategy", "mirrored"],
        tmp_path,
        KERAS_BACKEND="tensorflow",
    )
    assert "Training on 2 replicas (mirrored)" in stdout
    assert (tmp_path / "best.keras").is_file()


@pytest.mark.slow
@needs_jax
def test_jax_backend_trains_data_parallel_on_two_devices(tmp_path):
    stdout = run_training(
        ["-m", "encoder_decoder.train"],
        ["--strategy", "data-parallel"],
        tmp_path,
        KERAS_BACKEND="jax",
        XLA_FLAGS="--xla_force_host_platform_device_count=2",
    )
    assert "Training on 2 replicas (data-parallel)" in stdout
    assert (tmp_path / "best.keras").is_file()


def test_a_strategy_of_another_backend_is_a_clear_error(tmp_path):
    strategy = "mirrored" if keras.backend.backend() == "jax" else "data-parallel"
    config = TrainConfig(strategy=strategy, output_dir=str(tmp_path))
    with pytest.raises(ValueError, match="KERAS_BACKEND="):
        train(config)


def free_port():
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
@needs_jax
def test_multi_worker_trains_in_step_across_two_processes(tmp_path):
    address = f"localhost:{free_port()}"
    workers = []
    for process in (0, 1):
        command, env = training_process(
            ["-m", "encoder_decoder.train"],
            ["--strategy", "multi-worker"],
            tmp_path,
            KERAS_BACKEND="jax",
            KERAS_DISTRIBUTION_JOB_ADDRESSES=address,
            KERAS_DISTRIBUTION_NUM_PROCESSES="2",
            KERAS_DISTRIBUTION_PROCESS_ID=str(process),
        )
        workers.append(
            subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=env,
            )
        )
    logs = [worker.communicate(timeout=600)[0] for worker in workers]
    for worker, log in zip(workers, logs, strict=True):
        assert worker.returncode == 0, log[-3000:]
        assert "Training on 2 replicas (multi-worker)" in log
    chief = json.loads((tmp_path / "metrics.json").read_text())
    other = tmp_path / "workers" / "process-1" / "metrics.json"
    # Synchronous training: both processes hold the same model.
    assert json.loads(other.read_text()) == pytest.approx(chief)


def test_only_process_0_writes_to_the_output_dir(monkeypatch):
    monkeypatch.delenv("KERAS_DISTRIBUTION_PROCESS_ID", raising=False)
    assert worker_output_dir("out") == "out"
    monkeypatch.setenv("KERAS_DISTRIBUTION_PROCESS_ID", "0")
    assert worker_output_dir("out") == "out"
    monkeypatch.setenv("KERAS_DISTRIBUTION_PROCESS_ID", "3")
    assert worker_output_dir("out") == os.path.join("out", "workers", "process-3")
