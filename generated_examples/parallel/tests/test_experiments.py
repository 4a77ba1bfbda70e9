import csv
import dataclasses

import keras_tuner
import pytest

from parallel import runs, train, tune
from parallel.cli import settable_fields, write_config
from parallel.config import ModelConfig, TrainConfig

# A few steps per run: these tests check the plumbing, not the scores.
QUICK = ["--epochs", "2", "--steps-per-epoch", "3", "--batch-size", "16"]
SETTINGS = """\
[model]
branch_width = 8

[train]
learning_rate = 0.01
epochs = 3
"""


def test_flags_win_over_the_config_file_and_the_file_over_defaults(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text(SETTINGS)
    model_config, config = train.parse_args(["--config", str(path), "--epochs", "4"])
    assert model_config == dataclasses.replace(ModelConfig(), branch_width=8)
    assert config == dataclasses.replace(TrainConfig(), learning_rate=0.01, epochs=4)


def test_a_written_config_reads_back_as_the_same_configs(tmp_path):
    model_config = dataclasses.replace(ModelConfig(), branch_width=8)
    config = dataclasses.replace(TrainConfig(), patience=2, output_dir="elsewhere")
    path = write_config(tmp_path / "config.toml", model_config, config, "a test")
    # The output directory stays out: a repeated run gets a directory of its own.
    assert train.parse_args(["--config", str(path)]) == (
        model_config,
        dataclasses.replace(config, output_dir=None),
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("[train]\nlearning_rat = 0.1\n", "no setting 'learning_rat'; did you mean"),
        ('[train]\nepochs = "ten"\n', "train.epochs takes an integer, not 'ten'"),
        ("[train]\nbatch_size = 0\n", "train.batch_size must be positive"),
        ("[train]\nlearning_rate = nan\n", "takes a finite number, not nan"),
        ("[optimizer]\nlr = 0.1\n", "'optimizer' is no section"),
        ("[train\n", "is not valid TOML"),
    ],
)
def test_a_bad_config_file_is_a_one_line_error(tmp_path, capsys, text, message):
    path = tmp_path / "settings.toml"
    path.write_text(text)
    with pytest.raises(SystemExit) as exit_info:
        train.parse_args(["--config", str(path)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert message in error
    assert error.count("\n") == 1


def test_the_search_space_names_settable_fields_around_the_defaults():
    space = keras_tuner.HyperParameters()
    tune.search_space(space, ModelConfig(), TrainConfig())
    settable = settable_fields("model") | settable_fields("train")
    assert space.values and set(space.values) <= set(settable)
    # Each range holds the default: the values a first trial would take.
    configs = tune.trial_configs(space.values, ModelConfig(), TrainConfig())
    assert configs == (ModelConfig(), TrainConfig())


def test_format_table_aligns_columns():
    rows = [{"run": "a", "loss": 0.5}, {"run": "long", "loss": 0.25}]
    table = runs.format_table(rows)
    assert table.splitlines() == ["run   loss", "a      0.5", "long  0.25"]


@pytest.mark.slow
def test_search_then_train_the_best_and_compare_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    # Out of time after its first trial, a search starts no other; run again, it
    # resumes up to its trial budget.
    tune.main(["--max-trials", "2", "--max-minutes", "0", *QUICK])
    search = tmp_path / "tuning" / "search"
    assert [path.name for path in search.glob("trial_*")] == ["trial_0"]
    tune.main(["--max-trials", "2", *QUICK])
    with open(search / "trials.csv", newline="") as file:
        trials = list(csv.DictReader(file))
    assert [row["status"] for row in trials] == ["completed", "completed"]
    assert float(trials[0]["val_loss"]) <= float(trials[1]["val_loss"])

    train.main(["--config", str(search / "best.toml"), "--output-dir", "runs/best"])
    train.main([*QUICK, "--output-dir", "runs/defaults"])
    capsys.readouterr()
    runs.main([])
    table = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in table[1:3]] == ["best", "defaults"]
    assert (tmp_path / "runs" / "validation_curves.png").is_file()
    # The best run trained with the best trial's settings.
    ran = train.parse_args(["--config", str(tmp_path / "runs/best/config.toml")])
    assert ran == train.parse_args(["--config", str(search / "best.toml")])

    if train.writes_tensorboard_logs():  # the HParams dashboard's record of the run
        assert list((tmp_path / "runs/best/logs").glob("events.out.tfevents.*"))
