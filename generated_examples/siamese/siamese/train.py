"""Train the siamese model and evaluate it on held-out data.

python -m siamese train --help
"""

import dataclasses
from pathlib import Path

from siamese.config import ModelConfig, TrainConfig
from siamese.data import load_splits
from siamese.model import (
    adapt,
    build_model,
    choose_threshold,
    compile_model,
    default_threshold,
    set_threshold,
)
from siamese.tools import training
from siamese.tools.batches import batches
from siamese.tools.pairs import pair_labels, training_batches
from siamese.tools.plots import result_plots
from siamese.tools.streaming import adaptation_data


def train(
    config: TrainConfig, model_config: ModelConfig | None = None
) -> dict[str, float]:
    """Train with early stopping, keep the best model, and return test metrics.

    Writes to `config.output_dir`: the settings (`config.toml`, for `--config`),
    the best model by validation loss (`best.keras`), `history.csv`, `metrics.json`,
    plots (`*.png`) and, on TensorFlow, TensorBoard logs (`logs/`);
    `schema.json` (the data's columns and the "same" threshold, for evaluate and
    predict) and `encoder.keras` (the encoder alone, to embed items).
    """
    model_config = model_config or ModelConfig()
    config = training.start(config)
    train_split, validation_split, test_split, schema = load_splits(config)
    # The model takes items of the data's shape.
    model_config = dataclasses.replace(
        model_config, input_shape=tuple(schema.input_shape)
    )
    output_dir = Path(config.output_dir)
    training.write_settings(output_dir, model_config, config)
    # "Same" by the default threshold until the validation pairs choose one (after
    # `fit`): an interrupted run's evaluate and predict take this one.
    schema = dataclasses.replace(schema, threshold=default_threshold(config))
    schema.save(output_dir / "schema.json")
    # A stream (data bigger than memory) gives `adapt` its statistics, not its rows.
    model = compile_model(
        adapt(build_model(model_config), adaptation_data(train_split)), config
    )
    model.fit(
        training_batches(train_split, config.batch_size, seed=config.seed),
        validation_data=batches(validation_split, config.batch_size),
        validation_steps=training.validation_steps(validation_split, config),
        epochs=config.epochs,
        steps_per_epoch=training.steps_per_epoch(train_split, config),
        shuffle=False,  # the training batches come shuffled
        callbacks=training.callbacks(output_dir, config),
        verbose=2,
    )
    # "Same" from here on: what calls the validation pairs best, in the saved
    # model (its pair accuracy) and in schema.json (for predict).
    threshold = choose_threshold(
        model,
        batches(validation_split, config.batch_size),
        pair_labels(validation_split, config.batch_size),
    )
    model = set_threshold(model, threshold, config)
    model.save(output_dir / "best.keras")
    model.get_layer("encoder").save(output_dir / "encoder.keras")
    schema = dataclasses.replace(schema, threshold=threshold)
    schema.save(output_dir / "schema.json")
    results = model.evaluate(
        batches(test_split, config.batch_size),
        return_dict=True,
        verbose=0,
    )
    result_plots(model, test_split, schema, output_dir, config.batch_size)
    return training.finish(output_dir, results, model_config, config)


def main(argv: list[str] | None = None) -> None:
    training.main(train, argv)


if __name__ == "__main__":
    main()
