"""Train the encoder-decoder model and evaluate it on held-out data.

python -m encoder_decoder train --help
"""

import dataclasses
from pathlib import Path

from encoder_decoder.config import ModelConfig, TrainConfig
from encoder_decoder.data import load_splits
from encoder_decoder.model import build_model, compile_model, exact_match
from encoder_decoder.tools import training
from encoder_decoder.tools.batches import batches
from encoder_decoder.tools.plots import result_plots
from encoder_decoder.tools.streaming import in_chunks


def train(
    config: TrainConfig, model_config: ModelConfig | None = None
) -> dict[str, float]:
    """Train with early stopping, keep the best model, and return test metrics.

    Writes to `config.output_dir`: the settings (`config.toml`, for `--config`),
    the best model by validation loss (`best.keras`), `history.csv`, `metrics.json`,
    plots (`*.png`) and, on TensorFlow, TensorBoard logs (`logs/`);
    `schema.json` (the data's columns and classes, for evaluate and predict).
    """
    model_config = model_config or ModelConfig()
    config = training.start(config)
    train_split, validation_split, test_split, schema = load_splits(config)
    # The model takes the tokens of the data's vocabularies.
    model_config = dataclasses.replace(
        model_config,
        source_vocab_size=schema.sizes["source"],
        target_vocab_size=schema.sizes["target"],
    )
    output_dir = Path(config.output_dir)
    training.write_settings(output_dir, model_config, config)
    schema.save(output_dir / "schema.json")
    model = compile_model(build_model(model_config), config)
    model.fit(
        batches(train_split, config.batch_size, training=True, seed=config.seed),
        validation_data=batches(validation_split, config.batch_size),
        validation_steps=training.validation_steps(validation_split, config),
        epochs=config.epochs,
        steps_per_epoch=training.steps_per_epoch(train_split, config),
        shuffle=False,  # the training batches come shuffled
        callbacks=training.callbacks(output_dir, config),
        verbose=2,
    )
    results = model.evaluate(
        batches(test_split, config.batch_size),
        return_dict=True,
        verbose=0,
    )
    results["exact_match"] = exact_match(
        model, in_chunks(test_split), config.batch_size
    )
    result_plots(model, test_split, schema, output_dir, config.batch_size)
    return training.finish(output_dir, results, model_config, config)


def main(argv: list[str] | None = None) -> None:
    training.main(train, argv)


if __name__ == "__main__":
    main()
