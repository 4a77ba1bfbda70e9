"""Train the multi-output model and evaluate it on held-out data.

python -m multi_output.train --help
"""

import argparse
import dataclasses
import importlib.util
import json
import math
import sys
import typing
from pathlib import Path

import keras

from multi_output.batches import batches
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


def train(config: TrainConfig) -> dict[str, float]:
    """Train with early stopping, keep the best model, and return test metrics.

    Writes to `config.output_dir`: `best.keras` (best validation loss),
    `history.csv` (one row per epoch), `logs/` (TensorBoard, on TensorFlow),
    `schema.json` (the data's columns and classes, for evaluate and predict)
    `learning_curves.png`, plots of the test results (`*.png`)
    and `metrics.json`.
    """
    keras.utils.set_random_seed(config.seed)
    train_split, validation_split, test_split, schema = load_splits(config)
    # The model takes as many features as the data has, and each classification
    # head predicts its target's classes (a regression head has none: 0).
    model_config = dataclasses.replace(
        ModelConfig(),
        input_shape=tuple(schema.input_shape),
        heads={name: len(schema.classes.get(name, [])) for name in ModelConfig().heads},
    )
    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
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
    return results


def flag_type(hint: typing.Any) -> typing.Any:
    """The type a flag's text is read as: `int` for an `int | None` field."""
    return next((t for t in typing.get_args(hint) if t is not type(None)), hint)


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    """Read a TrainConfig from the command line: one flag per field, its default."""
    parser = argparse.ArgumentParser(
        prog="python -m multi_output.train",
        description="Train the multi-output model and evaluate it on held-out data.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    types = typing.get_type_hints(TrainConfig)
    for field in dataclasses.fields(TrainConfig):
        options = dict(field.metadata)
        flag = options.pop("flag", "--" + field.name.replace("_", "-"))
        parser.add_argument(
            flag,
            dest=field.name,
            type=flag_type(types[field.name]),
            default=field.default,
            **options,
        )
    return TrainConfig(**vars(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    try:
        results = train(config)
    except DataError as error:
        sys.exit(f"error: {error}")
    print(
        "Test: " + ", ".join(f"{name} {value:.4f}" for name, value in results.items())
    )
    output_dir = Path(config.output_dir)
    print(f"Best model: {output_dir / 'best.keras'}")
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
