"""Train the multi-output model and evaluate it on held-out data.

python -m multi_output.train --help
"""

import argparse
import contextlib
import dataclasses
import importlib.util
import json
import math
import shutil
import sys
from pathlib import Path

import keras

from multi_output.batches import batches
from multi_output.cli import (
    ConfigError,
    add_config_flags,
    new_run_dir,
    read_settings,
    write_config,
)
from multi_output.config import ModelConfig, TrainConfig
from multi_output.data import DataError, load_splits, num_examples
from multi_output.model import adapt, build_model, compile_model
from multi_output.plots import learning_curves, result_plots

# An epoch is one pass over the training data, but at least this many batches: a
# small dataset then trains long enough, and early stopping still ends the run
# when the validation loss stops improving.
MIN_BATCHES_PER_EPOCH = 100


def make_callbacks(
    output_dir: Path, config: TrainConfig
) -> list[keras.callbacks.Callback]:
    """Early stopping, the best model, and per-epoch logs in `output_dir`."""
    callbacks = [
        keras.callbacks.EarlyStopping(
            patience=config.patience, restore_best_weights=True
        ),
        keras.callbacks.ModelCheckpoint(
            str(output_dir / "best.keras"), save_best_only=True
        ),
        keras.callbacks.CSVLogger(str(output_dir / "history.csv")),
    ]
    if writes_tensorboard_logs():
        callbacks.append(keras.callbacks.TensorBoard(str(output_dir / "logs")))
    return callbacks


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


def with_run_dir(config: TrainConfig) -> TrainConfig:
    """`config` with an output directory: a new one under `runs/` if it has none."""
    if config.output_dir is not None:
        return config
    return dataclasses.replace(config, output_dir=new_run_dir())


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


def train(
    config: TrainConfig, model_config: ModelConfig | None = None
) -> dict[str, float]:
    """Train with early stopping, keep the best model, and return test metrics.

    Writes to `config.output_dir` (a new directory under `runs/` if None):
    `config.toml` (the settings, for `--config`), `best.keras` (best validation
    loss), `history.csv` (one row per epoch), `logs/` (TensorBoard and its HParams
    dashboard, on TensorFlow),
    `schema.json` (the data's columns and classes, for evaluate and predict)
    `learning_curves.png`, plots of the test results (`*.png`)
    and `metrics.json`.
    """
    model_config = model_config or ModelConfig()
    config = with_run_dir(config)
    keras.utils.set_random_seed(config.seed)
    if keras.backend.backend() == "torch":
        # Keras runs one batch per call on torch; a config.toml written on another
        # backend may ask for more.
        config = dataclasses.replace(config, steps_per_execution=1)
    train_split, validation_split, test_split, schema = load_splits(config)
    # The model takes as many features as the data has, and each classification
    # head predicts its target's classes (a regression head has none: 0).
    model_config = dataclasses.replace(
        model_config,
        input_shape=tuple(schema.input_shape),
        heads={name: len(schema.classes.get(name, [])) for name in ModelConfig().heads},
    )
    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    write_config(
        output_dir / "config.toml",
        model_config,
        config,
        f"The settings of run {output_dir}; repeat it with\n"
        f"python -m {__package__}.train --config {output_dir / 'config.toml'}",
    )
    schema.save(output_dir / "schema.json")
    batches_per_epoch = max(
        math.ceil(num_examples(train_split) / config.batch_size), MIN_BATCHES_PER_EPOCH
    )
    model = build_model(model_config)
    model = compile_model(adapt(model, train_split), config)
    model.fit(
        batches(train_split, config.batch_size, training=True, seed=config.seed),
        validation_data=batches(validation_split, config.batch_size),
        epochs=config.epochs,
        steps_per_epoch=config.steps_per_epoch or batches_per_epoch,
        shuffle=False,  # the training batches come shuffled
        callbacks=make_callbacks(output_dir, config),
        verbose=2,
    )
    results = model.evaluate(
        batches(test_split, config.batch_size),
        return_dict=True,
        verbose=0,
    )
    result_plots(model, test_split, schema, output_dir)

    results = {name: float(value) for name, value in results.items()}
    (output_dir / "metrics.json").write_text(json.dumps(results, indent=2) + "\n")
    learning_curves(output_dir / "history.csv", output_dir / "learning_curves.png")
    if writes_tensorboard_logs():
        log_hyperparameters(output_dir / "logs", model_config, config, results)
    return results


def parse_args(argv: list[str] | None = None) -> tuple[ModelConfig, TrainConfig]:
    """The configs of a run from the command line: flags, and a `--config` file."""
    parser = argparse.ArgumentParser(
        prog="python -m multi_output.train",
        description="Train the multi-output model and evaluate it on held-out data.",
        epilog="Every flag is also a key of a --config file (see cli.py).",
        allow_abbrev=False,
    )
    add_config_flags(parser)
    try:
        return read_settings(parser.parse_args(argv))
    except ConfigError as error:
        parser.exit(2, f"error: {error}\n")


def main(argv: list[str] | None = None) -> None:
    model_config, config = parse_args(argv)
    try:
        config = with_run_dir(config)
        output_dir = Path(config.output_dir)
        with removed_on_failure(output_dir):
            results = train(config, model_config)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        best = output_dir / "best.keras"
        kept = (
            f"kept {best}, the best model so far, for evaluate and predict"
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


if __name__ == "__main__":
    main()
