"""Search hyperparameters with KerasTuner: every trial is a `train` run.

    python -m parallel tune --max-trials 20
    python -m parallel tune --algorithm hyperband

A trial trains as `train` does, with the flags and `--config` file given here and
the values it draws from `search_space` below, in `tuning/NAME/trial_N/`. The search
writes `tuning/NAME/trials.csv`, the trials best first by validation score, and
`best.toml`, the best trial's settings for `train --config`. Run it again to resume.
"""

import argparse
import csv
import dataclasses
import logging
import math
import sys
import time
from pathlib import Path

import keras
import keras_tuner
from keras_tuner.errors import FailedTrialError, FatalError

from parallel.config import ACTIVATIONS, ModelConfig, TrainConfig
from parallel.tools import settings
from parallel.tools.readers import DataError
from parallel.tools.runs import best_epoch, format_table, read_history
from parallel.train import train

# Metrics the search minimizes, by the end of their name; it maximizes the others.
MINIMIZED = ("loss", "error", "mae", "mse")


def search_space(
    hp: keras_tuner.HyperParameters, model: ModelConfig, config: TrainConfig
) -> None:
    """The hyperparameters the search tries: edit their ranges here.

    Each is named after a ModelConfig or TrainConfig field, and its range reaches
    around the value that field has without the search (its default, or the one
    `--config` and the flags give). Fields not named here keep that value.
    """
    hp.Int("branch_depth", 1, max(4, model.branch_depth), default=model.branch_depth)
    hp.Int(
        "branch_width",
        max(1, model.branch_width // 4),
        model.branch_width * 4,
        sampling="log",
        default=model.branch_width,
    )
    hp.Choice("activation", list(ACTIVATIONS), default=model.activation)
    hp.Float(
        "learning_rate",
        config.learning_rate / 10,
        config.learning_rate * 10,
        sampling="log",
        default=config.learning_rate,
    )
    hp.Float(
        "weight_decay", 0.0, max(0.5, config.weight_decay), default=config.weight_decay
    )


def fields(values: dict) -> dict:
    """A trial's values by field name: of Hyperband's own values (`tuner/...`),
    only `tuner/epochs`, as `epochs`."""
    return {
        name.removeprefix("tuner/"): value
        for name, value in values.items()
        if name == "tuner/epochs" or not name.startswith("tuner/")
    }


def trial_configs(
    values: dict, model: ModelConfig, config: TrainConfig
) -> tuple[ModelConfig, TrainConfig]:
    """The base configs with a trial's hyperparameter values in their fields."""
    changes = {section: {} for section in settings.SECTIONS}
    for name, value in fields(values).items():
        section = "model" if name in settings.settable_fields("model") else "train"
        if name not in settings.settable_fields(section):
            raise settings.ConfigError(
                f"search_space names {name!r}, which is no ModelConfig or "
                "TrainConfig field that flags set"
            )
        changes[section][name] = settings.check_value(section, name, value)
    return (
        dataclasses.replace(model, **changes["model"]),
        dataclasses.replace(config, **changes["train"]),
    )


class BayesianFromBase(keras_tuner.oracles.BayesianOptimizationOracle):
    """Bayesian optimization whose first trial is the defaults, the base configs:
    its best trial is never worse on validation than no search."""

    def populate_space(self, trial_id: str) -> dict:
        if not self.trials:
            return {"status": "RUNNING", "values": self.hyperparameters.values}
        return super().populate_space(trial_id)


class Search(keras_tuner.Tuner):
    """Trials that are `train` runs, in their trial's folder: a trial's metrics are
    the validation metrics of the epoch its run keeps. None starts after `deadline`,
    a `time.monotonic()`."""

    def run_trial(self, trial, model, config, deadline) -> dict[str, float]:
        output_dir = self.get_trial_dir(trial.trial_id)
        keras.utils.clear_session()  # free the previous trial's model
        try:
            model, config = trial_configs(trial.hyperparameters.values, model, config)
            train(dataclasses.replace(config, output_dir=output_dir), model)
        except (settings.ConfigError, DataError) as error:
            raise FatalError(f"trial {trial.trial_id}: {error}") from None
        if time.monotonic() > deadline:
            print("Time budget spent: the search ends with this trial")
            self.oracle.max_trials = len(self.oracle.trials)
        metrics = best_epoch(read_history(Path(output_dir) / "history.csv"))
        name = self.oracle.objective.name
        if name not in metrics:
            logged = ", ".join(key for key in metrics if key.startswith("val_"))
            raise FatalError(f"--objective {name}: the runs log {logged}")
        if not math.isfinite(metrics[name]):  # diverged: no score to rank
            raise FailedTrialError(f"{name} is {metrics[name]}")
        return metrics


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m parallel tune",
        description="Search hyperparameters with KerasTuner; each trial is a run.",
        epilog="The settings flags give every trial's starting point; search_space "
        "in tools/tune.py varies some of them. Run the same command to resume.",
        allow_abbrev=False,
    )
    search = parser.add_argument_group("search")
    search.add_argument(
        "--algorithm",
        choices=("bayesian", "hyperband"),
        default="bayesian",
        help="Bayesian optimization (default), or Hyperband: many short trials, "
        "the best of them trained longer",
    )
    search.add_argument(
        "--max-trials", type=int, default=20, help="trials, at most (default: 20)"
    )
    search.add_argument(
        "--max-minutes",
        type=float,
        default=math.inf,
        help="no trial starts after this many minutes (the last one finishes)",
    )
    search.add_argument(
        "--objective",
        default="val_loss",
        help="the validation metric to optimize, a column of history.csv "
        "(default: val_loss; minimized if a loss or an error, else maximized)",
    )
    search.add_argument(
        "--name", default="search", help="its folder: tuning/NAME (default: search)"
    )
    search.add_argument(
        "--restart", action="store_true", help="discard its trials, not resume them"
    )
    settings.add_config_flags(parser)
    args = parser.parse_args(argv)
    if args.max_trials < 1:
        parser.exit(2, "error: --max-trials must be at least 1\n")
    if not args.objective.startswith("val_"):
        parser.exit(2, f"error: --objective {args.objective}: a val_ metric\n")
    try:
        args.base = settings.read_settings(args)
        if args.base[1].output_dir is not None:
            raise settings.ConfigError(
                "--output-dir: each trial writes to tuning/NAME/trial_N; name the "
                "search with --name"
            )
        args.space = keras_tuner.HyperParameters()
        search_space(args.space, *args.base)
        # Each name a field, each value one it takes: checked before any trial.
        trial_configs(args.space.values, *args.base)
    except (settings.ConfigError, ValueError) as error:
        parser.exit(2, f"error: {error}\n")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # New models make TensorFlow warn that it retraces: expected in a search.
    logging.getLogger("tensorflow").addFilter(
        lambda record: "triggered tf.function retracing" not in record.getMessage()
    )
    model_config, config = args.base
    direction = "min" if args.objective.endswith(MINIMIZED) else "max"
    shared = {
        "objective": keras_tuner.Objective(args.objective, direction),
        "hyperparameters": args.space,
        "seed": config.seed,
    }
    if args.algorithm == "hyperband":  # trials from scratch, the first ones random
        oracle = keras_tuner.oracles.HyperbandOracle(max_epochs=config.epochs, **shared)
    else:  # a quarter of the trials random, the others guided by a Gaussian process
        oracle = BayesianFromBase(
            num_initial_points=max(3, args.max_trials // 4), **shared
        )
    oracle.max_trials = args.max_trials
    tuner = Search(
        oracle, directory="tuning", project_name=args.name, overwrite=args.restart
    )
    search_dir = Path("tuning") / args.name
    try:
        tuner.search(model_config, config, time.monotonic() + 60 * args.max_minutes)
    except FatalError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print(
            f"Interrupted: {search_dir} keeps the trials that finished; run the same "
            "command again to resume (the interrupted trial starts over)",
            file=sys.stderr,
        )
        raise SystemExit(130) from None
    # The trials best first, those that did not complete last.
    completed = oracle.get_best_trials(len(oracle.trials))
    others = [trial for trial in oracle.trials.values() if trial not in completed]
    rows = [
        {
            "trial": trial.trial_id,
            "status": trial.status.lower(),
            args.objective: trial.score if trial in completed else "",
            **fields(trial.hyperparameters.values),
        }
        for trial in completed + others
    ]
    names = list(dict.fromkeys(name for row in rows for name in row))
    with open(search_dir / "trials.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, names)
        writer.writeheader()
        writer.writerows(rows)
    print(format_table(rows))
    if not completed:
        raise SystemExit(f"error: no trial completed; see {search_dir}")
    best = completed[0]
    values = dict(best.hyperparameters.values)
    values.pop("tuner/epochs", None)  # the best settings train for config.epochs
    path = search_dir / "best.toml"
    command = "python -m parallel train --config"
    settings.write_config(
        path,
        *trial_configs(values, model_config, config),
        f"The best trial ({best.trial_id}, {args.objective} {best.score:.4g}) of "
        f"the search in {search_dir}; train with it:\n{command} {path}",
    )
    print(f"Best: trial {best.trial_id}, {args.objective} {best.score:.4f}")
    print(f"Its settings: {path}; {command} {path}")


if __name__ == "__main__":
    main()
