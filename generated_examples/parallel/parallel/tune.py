"""Search hyperparameters with KerasTuner: every trial is a training run.

    python -m parallel.tune --max-trials 20
    python -m parallel.tune --algorithm hyperband

`search_space` below says what the search tries. A trial trains as `train` does,
with the flags and `--config` file given here plus its hyperparameters, in
`tuning/NAME/trial_N/`; the search keeps the trial with the best validation score.
It writes `tuning/NAME/best.toml`, which `train --config` takes, and a ranked table
of the trials, `trials.csv`. Run the same command again to resume a search.
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

from parallel.cli import (
    SECTIONS,
    ConfigError,
    add_config_flags,
    check_value,
    read_settings,
    settable_fields,
    write_config,
)
from parallel.config import ACTIVATIONS, ModelConfig, TrainConfig
from parallel.data import DataError
from parallel.runs import best_epoch, format_table, read_history
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


def trial_configs(
    values: dict, model: ModelConfig, config: TrainConfig
) -> tuple[ModelConfig, TrainConfig]:
    """The base configs with a trial's hyperparameter values in their fields.

    Hyperband's own values (`tuner/epochs`: the trial's epochs) set the epochs.
    """
    settings = {section: {} for section in SECTIONS}
    for name, value in values.items():
        if name == "tuner/epochs":
            settings["train"]["epochs"] = value
            continue
        if name.startswith("tuner/"):
            continue
        section = next(
            (section for section in settings if name in settable_fields(section)),
            None,
        )
        if section is None:
            raise ConfigError(
                f"search_space names {name!r}, which is no ModelConfig or "
                "TrainConfig field that flags set"
            )
        settings[section][name] = check_value(section, name, value)
    return (
        dataclasses.replace(model, **settings["model"]),
        dataclasses.replace(config, **settings["train"]),
    )


class BayesianFromBase(keras_tuner.oracles.BayesianOptimizationOracle):
    """Bayesian optimization whose first trial is the base configs, unchanged.

    The best trial is then never worse on validation than a run without a search.
    """

    def populate_space(self, trial_id: str) -> dict:
        if not self.trials:
            return {
                "status": keras_tuner.engine.trial.TrialStatus.RUNNING,
                "values": self.get_space().values,
            }
        return super().populate_space(trial_id)


class Search(keras_tuner.Tuner):
    """A KerasTuner tuner whose trials are training runs, each in its trial's folder.

    `oracle` picks the hyperparameters (Bayesian optimization or Hyperband); a
    trial reports the validation metrics of the epoch it keeps, the best one by
    validation loss. No trial starts after `deadline` (`time.monotonic()`).
    """

    def __init__(
        self,
        oracle: keras_tuner.Oracle,
        base: tuple[ModelConfig, TrainConfig],
        deadline: float | None,
        **options,
    ):
        super().__init__(oracle, **options)
        self.base = base
        self.deadline = deadline

    def run_trial(self, trial: keras_tuner.engine.trial.Trial) -> dict[str, float]:
        try:
            model_config, config = trial_configs(
                trial.hyperparameters.values, *self.base
            )
        except ConfigError as error:
            raise keras_tuner.errors.FatalError(f"search_space: {error}") from None
        config = dataclasses.replace(
            config, output_dir=self.get_trial_dir(trial.trial_id)
        )
        keras.utils.clear_session()  # free the previous trial's model
        try:
            train(config, model_config)
        except DataError as error:
            raise keras_tuner.errors.FatalError(str(error)) from None
        metrics = best_epoch(read_history(Path(config.output_dir) / "history.csv"))
        name = self.oracle.objective.name
        if name not in metrics:
            raise keras_tuner.errors.FatalError(
                f"--objective {name}: the runs log "
                + ", ".join(key for key in metrics if key.startswith("val_"))
            )
        if not math.isfinite(metrics[name]):
            raise keras_tuner.errors.FailedTrialError(f"{name} is {metrics[name]}")
        return metrics

    def on_trial_end(self, trial: keras_tuner.engine.trial.Trial) -> None:
        super().on_trial_end(trial)
        if self.deadline is not None and time.monotonic() > self.deadline:
            print("Time budget spent: the search ends with this trial")
            self.oracle.max_trials = len(self.oracle.trials)


def make_oracle(
    algorithm: str, objective: str, max_trials: int, config: TrainConfig, space
) -> keras_tuner.Oracle:
    """Bayesian optimization or Hyperband over `space`, for `max_trials` trials."""
    direction = "min" if objective.endswith(MINIMIZED) else "max"
    options = {
        "objective": keras_tuner.Objective(objective, direction),
        "hyperparameters": space,
        "tune_new_entries": False,
        "seed": config.seed,
    }
    if algorithm == "hyperband":
        # Trials train 1 to `config.epochs` epochs; Hyperband gives more epochs to
        # the hyperparameters that did best in fewer. Each trial trains from scratch,
        # and the first ones are random (not the base configs).
        oracle = keras_tuner.oracles.HyperbandOracle(
            max_epochs=config.epochs, factor=3, **options
        )
    else:
        # A quarter of the trials at random, the rest guided by a Gaussian process
        # (KerasTuner's default, three per hyperparameter, leaves few to guide).
        oracle = BayesianFromBase(num_initial_points=max(3, max_trials // 4), **options)
    oracle.max_trials = max_trials  # Hyperband's oracle takes no max_trials argument
    return oracle


def ranked_trials(oracle: keras_tuner.Oracle) -> list[dict]:
    """One row per trial, best first; trials that failed last."""
    completed = oracle.get_best_trials(len(oracle.trials))
    others = [trial for trial in oracle.trials.values() if trial not in completed]
    rows = []
    for rank, trial in enumerate(completed + others, start=1):
        score = trial.score if trial in completed else None
        # Of Hyperband's own values, only a trial's epochs tell the reader something.
        values = {
            name.removeprefix("tuner/"): value
            for name, value in trial.hyperparameters.values.items()
            if name == "tuner/epochs" or not name.startswith("tuner/")
        }
        rows.append(
            {
                "rank": rank if score is not None else "",
                "trial": trial.trial_id,
                "status": trial.status.lower(),
                oracle.objective.name: score if score is not None else "",
                **values,
            }
        )
    return rows


def write_trials(rows: list[dict], path: Path) -> Path:
    """The ranked trials as a CSV file."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)
    return path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m parallel.tune",
        description="Search hyperparameters with KerasTuner; each trial is a run.",
        epilog="The settings flags give every trial's starting point; search_space "
        "in tune.py varies some of them. Run the same command again to resume.",
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
        help="no trial starts after this many minutes (the last one finishes)",
    )
    search.add_argument(
        "--objective",
        default="val_loss",
        help="the validation metric to optimize, a column of history.csv "
        "(default: val_loss; minimized if a loss or an error, else maximized)",
    )
    search.add_argument(
        "--name",
        default="search",
        help="the search's name: tuning/NAME holds its trials (default: search)",
    )
    search.add_argument(
        "--tuning-dir", type=Path, default=Path("tuning"), help=argparse.SUPPRESS
    )
    search.add_argument(
        "--restart",
        action="store_true",
        help="discard an earlier search of that name instead of resuming it",
    )
    add_config_flags(parser)
    args = parser.parse_args(argv)
    if args.max_trials < 1:
        parser.exit(2, "error: --max-trials must be at least 1\n")
    if args.max_minutes is not None and args.max_minutes < 0:
        parser.exit(2, "error: --max-minutes must be 0 or more\n")
    if not args.objective.startswith("val_"):
        parser.exit(2, f"error: --objective {args.objective}: a val_ metric\n")
    try:
        args.base = read_settings(args)
        args.space = keras_tuner.HyperParameters()
        search_space(args.space, *args.base)
        # Each name a field, each value one it takes: checked before any trial.
        trial_configs(args.space.values, *args.base)
    except (ConfigError, ValueError) as error:
        parser.exit(2, f"error: {error}\n")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # Every trial builds new models, so TensorFlow traces new functions and warns
    # that it retraces them: expected in a search, and no sign of trouble.
    logging.getLogger("tensorflow").addFilter(
        lambda record: "triggered tf.function retracing" not in record.getMessage()
    )
    model_config, config = args.base
    deadline = None
    if args.max_minutes is not None:
        deadline = time.monotonic() + 60 * args.max_minutes
    tuner = Search(
        make_oracle(
            args.algorithm, args.objective, args.max_trials, config, args.space
        ),
        args.base,
        deadline,
        directory=str(args.tuning_dir),
        project_name=args.name,
        overwrite=args.restart,
    )
    search_dir = args.tuning_dir / args.name
    started = time.monotonic()
    try:
        tuner.search()
    except keras_tuner.errors.FatalError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        finished = sum(
            trial.status == keras_tuner.engine.trial.TrialStatus.COMPLETED
            for trial in tuner.oracle.trials.values()
        )
        print(
            f"Interrupted: {search_dir} keeps the trials that finished ({finished}); "
            "run the same command again to resume (the interrupted trial starts over)",
            file=sys.stderr,
        )
        raise SystemExit(130) from None
    rows = ranked_trials(tuner.oracle)
    write_trials(rows, search_dir / "trials.csv")
    print(format_table(rows))
    best = tuner.oracle.get_best_trials(1)
    if not best:
        raise SystemExit(f"error: no trial completed; see {search_dir}")
    values = dict(best[0].hyperparameters.values)
    values.pop("tuner/epochs", None)  # the best config trains for config.epochs
    path = write_config(
        search_dir / "best.toml",
        *trial_configs(values, model_config, config),
        f"The best trial ({best[0].trial_id}, {args.objective} {best[0].score:.4g}) "
        f"of the search in {search_dir}; train with it:\n"
        f"python -m {__package__}.train --config {search_dir / 'best.toml'}",
    )
    minutes = (time.monotonic() - started) / 60
    print(f"{len(rows)} trials in {search_dir} ({minutes:.1f} minutes this time)")
    print(f"Best: trial {best[0].trial_id}, {args.objective} {best[0].score:.4f}")
    print(f"Its settings: {path}; python -m {__package__}.train --config {path}")


if __name__ == "__main__":
    main()
