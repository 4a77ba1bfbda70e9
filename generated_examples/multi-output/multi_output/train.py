"""Train the multi-output model and evaluate it on held-out data.

python -m multi_output.train --help
"""

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

import keras

from multi_output.config import ModelConfig, TrainConfig
from multi_output.data import DataError, load_splits, num_examples, to_dataset
from multi_output.distribute import (
    STRATEGIES,
    DistributionError,
    distributed,
    needs_whole_batches,
    worker_output_dir,
)
from multi_output.model import build_model, compile_model

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def make_callbacks(
    output_dir: Path, config: TrainConfig
) -> list[keras.callbacks.Callback]:
    """Early stopping, the best model, and per-epoch logs in `output_dir`."""
    return [
        keras.callbacks.EarlyStopping(
            patience=config.patience, restore_best_weights=True
        ),
        keras.callbacks.ModelCheckpoint(
            str(output_dir / "best.keras"), save_best_only=True
        ),
        keras.callbacks.CSVLogger(str(output_dir / "history.csv")),
        keras.callbacks.TensorBoard(str(output_dir / "logs")),
    ]


def train(config: TrainConfig) -> dict[str, float]:
    """Train with early stopping, keep the best model, and return test metrics.

    Writes to `config.output_dir`: `best.keras` (best validation loss),
    `history.csv` (one row per epoch), `logs/` (TensorBoard) and `metrics.json`.
    """
    keras.utils.set_random_seed(config.seed)
    keras.config.set_dtype_policy(config.precision)
    if config.strategy == "mirrored":
        # Keras 3 cannot run several steps per call under tf.distribute yet
        # (keras-team/keras#19246): one batch per call.
        config = dataclasses.replace(config, steps_per_execution=1)
    train_split, validation_split, test_split = load_splits(
        config.data_path, config.seed
    )
    output_dir = Path(config.output_dir)
    if config.strategy == "multi-worker":
        output_dir = Path(worker_output_dir(config.output_dir))
    output_dir.mkdir(parents=True, exist_ok=True)
    batches_per_epoch = math.ceil(num_examples(train_split) / config.batch_size)
    whole_batches = needs_whole_batches(config.strategy)  # no partial last batch

    with distributed(config.strategy, config.batch_size) as replicas:
        if replicas > 1:
            print(f"Training on {replicas} replicas ({config.strategy})")
        model = compile_model(build_model(ModelConfig()), config)
        model.fit(
            to_dataset(train_split, config.batch_size, training=True, seed=config.seed),
            validation_data=to_dataset(
                validation_split, config.batch_size, whole_batches=whole_batches
            ),
            epochs=config.epochs,
            steps_per_epoch=config.steps_per_epoch or batches_per_epoch,
            shuffle=False,  # to_dataset shuffles
            callbacks=make_callbacks(output_dir, config),
            verbose=2,
        )
        results = model.evaluate(
            to_dataset(test_split, config.batch_size, whole_batches=whole_batches),
            return_dict=True,
            verbose=0,
        )
    results = {name: float(value) for name, value in results.items()}
    (output_dir / "metrics.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    """Read a TrainConfig from the command line, defaulting to its field values."""
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="python -m multi_output.train",
        description="Train the multi-output model and evaluate it on held-out data.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument(
        "--data",
        dest="data_path",
        default=defaults.data_path,
        help="your own .npz data (format: see data.py); built-in data if unset",
    )
    parser.add_argument("--output-dir", default=defaults.output_dir)
    parser.add_argument(
        "--steps-per-epoch",
        type=int,
        default=defaults.steps_per_epoch,
        help="cap on batches per epoch, for quick runs; all data if unset",
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=defaults.patience,
        help="epochs without validation improvement before stopping",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--steps-per-execution",
        type=int,
        default=defaults.steps_per_execution,
        help="batches per compiled call: fewer Python round trips, faster small models",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=defaults.precision,
        help="mixed_float16 for recent GPUs, mixed_bfloat16 for TPUs and recent CPUs",
    )
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=defaults.strategy,
        help="scale-out over devices or machines (see distribute.py)",
    )
    return TrainConfig(**vars(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    try:
        results = train(config)
    except (DataError, DistributionError) as error:
        sys.exit(f"error: {error}")
    print(
        "Test: " + ", ".join(f"{name} {value:.4f}" for name, value in results.items())
    )
    print(f"Best model: {Path(config.output_dir) / 'best.keras'}")


if __name__ == "__main__":
    main()
