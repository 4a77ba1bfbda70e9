"""The machinery around `train.train`: the run's directory and settings file, its
callbacks and logs, and the `train` command's flags, errors and summary.
"""

import argparse
import contextlib
import dataclasses
import datetime
import importlib.util
import json
import math
import shutil
import sys
import time
from pathlib import Path

import keras

from multi_input.config import ModelConfig, TrainConfig
from multi_input.tools.plots import learning_curves
from multi_input.tools.readers import DataError, met_in_pipeline, num_examples
from multi_input.tools.settings import (
    ConfigError,
    add_config_flags,
    read_settings,
    write_config,
)

# An epoch is one pass over the training data, but at least this many batches: a
# small dataset then trains long enough, and early stopping still ends the run
# when the validation loss stops improving.
MIN_BATCHES_PER_EPOCH = 100
# Seconds between two writes of the best model (see BestModel).
SAVE_INTERVAL = 10.0


def start(config: TrainConfig) -> TrainConfig:
    """Seed the run and return its config as this backend runs it, with a run
    directory (a new one under `runs/` if it has none)."""
    keras.utils.set_random_seed(config.seed)
    if keras.backend.backend() == "torch":
        # Keras runs one batch per call on torch; a config.toml written on another
        # backend may ask for more.
        config = dataclasses.replace(config, steps_per_execution=1)
    return with_run_dir(config)


def with_run_dir(config: TrainConfig) -> TrainConfig:
    """`config` with an output directory: a new one under `runs/` if it has none."""
    if config.output_dir is not None:
        return config
    return dataclasses.replace(config, output_dir=new_run_dir())


def new_run_dir(root: str = "runs") -> str:
    """A fresh directory name under `root`, from the date and time."""
    stamp = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    path, count = Path(root) / stamp, 1
    while path.exists():
        count += 1
        path = Path(root) / f"{stamp}-{count}"
    return str(path)


def write_settings(
    output_dir: Path, model_config: ModelConfig, config: TrainConfig
) -> None:
    """Create the run directory and write the run's settings, `config.toml`."""
    output_dir.mkdir(parents=True, exist_ok=True)
    write_config(
        output_dir / "config.toml",
        model_config,
        config,
        f"The settings of run {output_dir}; repeat it with\n"
        f"python -m multi_input train "
        f"--config {output_dir / 'config.toml'}",
    )


def steps_per_epoch(train_split: tuple, config: TrainConfig) -> int:
    """`config.steps_per_epoch`, or the batches of one pass over the training data
    (at least MIN_BATCHES_PER_EPOCH)."""
    batches = math.ceil(num_examples(train_split) / config.batch_size)
    return config.steps_per_epoch or max(batches, MIN_BATCHES_PER_EPOCH)


def validation_steps(validation_split: tuple, config: TrainConfig) -> int | None:
    """`config.validation_steps`, if fewer than the validation batches: then a note
    says how many of them each epoch's validation reads."""
    batches = math.ceil(num_examples(validation_split) / config.batch_size)
    if config.validation_steps is None or config.validation_steps >= batches:
        return None
    print(
        f"note: each epoch validates on {config.validation_steps:,} of the "
        f"{batches:,} validation batches (--validation-steps)"
    )
    return config.validation_steps


def callbacks(output_dir: Path, config: TrainConfig) -> list[keras.callbacks.Callback]:
    """Early stopping, the best model, and per-epoch logs in `output_dir`."""
    callbacks = [
        keras.callbacks.EarlyStopping(
            patience=config.patience, restore_best_weights=True
        ),
        BestModel(output_dir / "best.keras"),
        keras.callbacks.CSVLogger(str(output_dir / "history.csv")),
    ]
    if writes_tensorboard_logs():
        callbacks.append(keras.callbacks.TensorBoard(str(output_dir / "logs")))
    return callbacks


class BestModel(keras.callbacks.Callback):
    """Keep the model of the lowest validation loss so far in `path`.

    As `keras.callbacks.ModelCheckpoint(path, save_best_only=True)`, but with one
    write at most every SAVE_INTERVAL seconds: the weights of a better epoch in
    between wait in memory for the first epoch end after it, or the end of
    training. A write takes about 40 ms, a tenth of a small model's epoch. Ctrl-C
    keeps the model of the last write.
    """

    def __init__(self, path: Path, interval: float = SAVE_INTERVAL):
        super().__init__()
        self.path = path
        self.interval = interval
        self.best = math.inf
        self.written_at = -math.inf
        self.waiting = None  # the best weights, while not written

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        due = time.monotonic() - self.written_at >= self.interval
        loss = (logs or {}).get("val_loss", math.inf)
        if loss < self.best:
            self.best = loss
            if due:
                self.write()
            else:
                self.waiting = self.model.get_weights()
        elif due and self.waiting is not None:
            self.write(self.waiting)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.waiting is not None:
            self.write(self.waiting)

    def write(self, weights: list | None = None) -> None:
        """Write the model, with `weights` if given (then back to its own)."""
        if weights is None:
            self.model.save(self.path)
        else:
            current = self.model.get_weights()
            self.model.set_weights(weights)
            self.model.save(self.path)
            self.model.set_weights(current)
        self.written_at = time.monotonic()
        self.waiting = None


def finish(
    output_dir: Path,
    results: dict,
    model_config: ModelConfig,
    config: TrainConfig,
) -> dict[str, float]:
    """Write the test metrics (`metrics.json`), the learning curves and the
    TensorBoard HParams of a trained run; return the metrics as floats."""
    results = {name: float(value) for name, value in results.items()}
    (output_dir / "metrics.json").write_text(json.dumps(results, indent=2) + "\n")
    learning_curves(output_dir / "history.csv", output_dir / "learning_curves.png")
    if writes_tensorboard_logs():
        log_hyperparameters(output_dir / "logs", model_config, config, results)
    return results


def writes_tensorboard_logs() -> bool:
    """Keras's TensorBoard callback writes through `tf.summary`: TensorFlow only."""
    return (
        keras.backend.backend() == "tensorflow"
        and importlib.util.find_spec("tensorboard") is not None
    )


def log_hyperparameters(
    log_dir: Path,
    model_config: ModelConfig,
    config: TrainConfig,
    results: dict[str, float],
) -> None:
    """The run's settings and test metrics, for TensorBoard's HParams dashboard."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hparams

    settings = {
        f"{section}.{name}": (
            value if isinstance(value, (int, float, str)) else str(value)
        )
        for section, instance in (("model", model_config), ("train", config))
        for name, value in dataclasses.asdict(instance).items()
        if value is not None and name != "output_dir"
    }
    with tf.summary.create_file_writer(str(log_dir)).as_default():
        hparams.hparams(settings, trial_id=Path(config.output_dir).name)
        for name, value in results.items():
            tf.summary.scalar(f"test_{name}", value, step=0)


@contextlib.contextmanager
def removed_on_failure(output_dir: Path):
    """Remove `output_dir` if the run fails before it keeps a model (`best.keras`),
    unless the directory was there before the run."""
    new = not output_dir.exists()
    try:
        yield
    except BaseException:
        if new and not (output_dir / "best.keras").exists():
            shutil.rmtree(output_dir, ignore_errors=True)
        raise


def parse_args(argv: list[str] | None = None) -> tuple[ModelConfig, TrainConfig]:
    """The configs of a run from the command line: flags, and a `--config` file."""
    parser = argparse.ArgumentParser(
        prog="python -m multi_input train",
        description="Train the multi-input model and evaluate it on held-out data.",
        epilog="Every flag is also a key of a --config file (see tools/settings.py).",
        allow_abbrev=False,
    )
    add_config_flags(parser)
    try:
        return read_settings(parser.parse_args(argv))
    except ConfigError as error:
        parser.exit(2, f"error: {error}\n")


def main(train, argv: list[str] | None = None) -> None:
    """The `train` command: run `train` with the command line's configs, and say
    where its outputs are, or what stopped it (exit status 2: the data or the
    settings; 130: interrupted)."""
    model_config, config = parse_args(argv)
    try:
        config = with_run_dir(config)
        output_dir = Path(config.output_dir)
        with removed_on_failure(output_dir):
            results = train(config, model_config)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except Exception as error:
        met = met_in_pipeline(error)
        if met is None:
            raise
        print(f"error: {met}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        best = output_dir / "best.keras"
        kept = (
            f"kept {best}, the best model written so far, for evaluate and predict"
            if best.exists()
            else "no epoch had ended: nothing kept"
        )
        print(
            f"Interrupted: {kept}; a run does not resume: train again to start over",
            file=sys.stderr,
        )
        raise SystemExit(130) from None
    print(
        "Test: " + ", ".join(f"{name} {value:.4f}" for name, value in results.items())
    )
    print(f"Best model: {output_dir / 'best.keras'}")
    print(f"Settings: {output_dir / 'config.toml'} (--config repeats the run)")
    tensorboard = (
        f"TensorBoard logs in {output_dir / 'logs'}"
        if writes_tensorboard_logs()
        else "no TensorBoard logs (they need the TensorFlow backend and tensorboard)"
    )
    print(f"Curves: {output_dir / 'history.csv'}; {tensorboard}")
    plots = ", ".join(str(path) for path in sorted(output_dir.glob("*.png")))
    print(f"Plots: {plots}")
