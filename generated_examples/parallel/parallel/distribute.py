"""Scale-out on the backends' own engines: `tf.distribute` and `keras.distribution`.

    none           one device
    mirrored       every GPU of this machine (TensorFlow, `tf.distribute`)
    data-parallel  every device of this machine (JAX, `keras.distribution`)
    multi-worker   every device of several processes or machines (JAX,
                   `keras.distribution`): start the same command in each process,
                   with KERAS_DISTRIBUTION_JOB_ADDRESSES (host:port of process 0),
                   KERAS_DISTRIBUTION_NUM_PROCESSES and KERAS_DISTRIBUTION_PROCESS_ID

All three train data parallel and in step: each batch is split across the replicas,
so `--batch-size` is the global batch size. TensorFlow's multi-worker strategy is not
offered: Keras 3's `fit` does not run under it (keras-team/keras#20585).
"""

import contextlib
import os
from collections.abc import Iterator

import keras

STRATEGIES = ("none", "mirrored", "data-parallel", "multi-worker")
BACKENDS = {"mirrored": "tensorflow", "data-parallel": "jax", "multi-worker": "jax"}


class DistributionError(ValueError):
    """A strategy that the current backend or batch size cannot run."""


@contextlib.contextmanager
def distributed(name: str, batch_size: int) -> Iterator[int]:
    """Run the enclosed build, compile and fit under strategy `name`.

    Yields the number of replicas that share each batch of `batch_size` examples.
    """
    if name == "none":
        yield 1
        return
    if name not in BACKENDS:
        raise DistributionError(f"unknown strategy {name!r}; one of {STRATEGIES}")
    backend = keras.backend.backend()
    if backend != BACKENDS[name]:
        raise DistributionError(
            f"strategy {name!r} runs on the {BACKENDS[name]} backend, not {backend}; "
            f"set KERAS_BACKEND={BACKENDS[name]}"
        )
    if name == "mirrored":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy()
        with strategy.scope():
            yield strategy.num_replicas_in_sync
        return
    if name == "multi-worker":
        keras.distribution.initialize()  # reads the KERAS_DISTRIBUTION_* variables
    distribution = keras.distribution.DataParallel()
    devices = distribution.device_mesh.devices.size
    if batch_size % devices:
        raise DistributionError(
            f"batch size {batch_size} does not split evenly across {devices} "
            f"devices; pick a multiple of {devices}"
        )
    with distribution.scope():
        yield devices


def needs_whole_batches(name: str) -> bool:
    """Whether strategy `name` splits every batch evenly (keras.distribution does)."""
    return BACKENDS.get(name) == "jax"


def worker_output_dir(output_dir: str) -> str:
    """Where this process writes: `output_dir` for process 0, a subfolder for others.

    Every process of a multi-worker run trains, evaluates and saves the same
    model; only process 0 writes to `output_dir` itself.
    """
    process = int(os.environ.get("KERAS_DISTRIBUTION_PROCESS_ID") or 0)
    if process == 0:
        return output_dir
    return os.path.join(output_dir, "workers", f"process-{process}")
