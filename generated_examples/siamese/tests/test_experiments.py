import csv
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import keras_tuner
import pytest

from siamese import train
from siamese.config import ModelConfig, TrainConfig
from siamese.tools import evaluate, predict, runs, training, tune
from siamese.tools.readers import DataError
from siamese.tools.settings import (
    PROJECT,
    ConfigError,
    check_value,
    settable_fields,
    write_config,
)

# A few steps per run: these tests check the plumbing, not the scores.
QUICK = ["--epochs", "2", "--steps-per-epoch", "3", "--batch-size", "16"]
SETTINGS = """\
[model]
encoder_width = 8

[train]
learning_rate = 0.01
epochs = 3
"""


def test_flags_win_over_the_config_file_and_the_file_over_defaults(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text(SETTINGS)
    model_config, config = training.parse_args(["--config", str(path), "--epochs", "4"])
    assert model_config == dataclasses.replace(ModelConfig(), encoder_width=8)
    assert config == dataclasses.replace(TrainConfig(), learning_rate=0.01, epochs=4)


def test_a_written_config_reads_back_as_the_same_configs(tmp_path):
    model_config = dataclasses.replace(ModelConfig(), encoder_width=8)
    config = dataclasses.replace(TrainConfig(), patience=2, output_dir="elsewhere")
    path = write_config(tmp_path / "config.toml", model_config, config, "a test")
    # The output directory stays out: a repeated run gets a directory of its own.
    assert training.parse_args(["--config", str(path)]) == (
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
        training.parse_args(["--config", str(path)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert message in error
    assert error.count("\n") == 1


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--epochs", "0"], "argument --epochs: train.epochs must be positive, not 0"),
        (["--batch-size", "ten"], "train.batch_size takes an integer, not 'ten'"),
        (["--learning-rate", "inf"], "learning_rate takes a finite number, not inf"),
    ],
)
def test_a_bad_flag_says_what_its_setting_takes(capsys, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        training.parse_args(flags)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_value_for_no_setting_is_a_config_error():
    # The tuner's values go through check_value too.
    with pytest.raises(ConfigError, match="no setting 'learning_rat'; did you mean"):
        check_value("train", "learning_rat", 0.1)
    assert check_value("train", "learning_rate", 1) == 1.0


def test_abbreviated_flags_are_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        training.parse_args(["--learning-rat", "0.1"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --learning-rat" in capsys.readouterr().err


def test_help_shows_no_tensorflow_start_up_logs():
    # A new process, as a user starts one: TF_CPP_MIN_LOG_LEVEL unset.
    env = {key: value for key, value in os.environ.items() if not key.startswith("TF_")}
    result = subprocess.run(
        [sys.executable, "-m", train.__package__, "train", "--help"],
        cwd=Path(__file__).parents[1],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("usage:")
    for noise in ("absl", "oneDNN", "cpu_feature_guard"):
        assert noise not in result.stderr


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


class FakeTrain:
    """`train` for a search without training: each trial's history is one epoch
    whose validation loss is the next of `losses` (None: Ctrl-C in that trial; a
    string: a DataError with that message). Keeps the configs of each trial."""

    def __init__(self, losses):
        self.losses = iter(losses)
        self.configs = []

    def __call__(self, config, model_config):
        # The settings a trial ran with, as best.toml would hold them.
        settings = dataclasses.replace(config, output_dir=None)
        self.configs.append((model_config, settings))
        loss = next(self.losses)
        if loss is None:
            raise KeyboardInterrupt
        if isinstance(loss, str):
            raise tune.DataError(loss)
        history = Path(config.output_dir) / "history.csv"
        history.write_text(f"epoch,loss,val_loss\n0,{loss},{loss}\n")
        return {"loss": loss}


def test_best_toml_holds_the_best_trial_not_the_first_or_last(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake = FakeTrain([0.5, 0.1, 0.9])
    monkeypatch.setattr(tune, "train", fake)
    tune.main(["--max-trials", "3"])
    with open("tuning/search/trials.csv", newline="") as file:
        assert [row["trial"] for row in csv.DictReader(file)] == ["1", "0", "2"]
    best = training.parse_args(["--config", "tuning/search/best.toml"])
    assert best == fake.configs[1]
    assert best not in (fake.configs[0], fake.configs[2])
    # The first trial trains the settings as given: no search does better.
    assert fake.configs[0] == (ModelConfig(), TrainConfig())


def test_ctrl_c_in_a_search_keeps_its_trials_and_it_resumes(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    fake = FakeTrain([0.5, None, 0.3, 0.4])
    monkeypatch.setattr(tune, "train", fake)
    with pytest.raises(SystemExit) as exit_info:
        tune.main(["--max-trials", "2"])
    assert exit_info.value.code == 130
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("Interrupted: tuning/search keeps the trials that finished")
    # Run again, the search runs the interrupted trial over, and ends.
    tune.main(["--max-trials", "2"])
    assert fake.configs[2] == fake.configs[1]
    with open("tuning/search/trials.csv", newline="") as file:
        assert [row["status"] for row in csv.DictReader(file)] == ["completed"] * 2
    # --restart discards those trials: the search starts over.
    tune.main(["--max-trials", "1", "--restart"])
    assert fake.configs[3] == fake.configs[0]
    with open("tuning/search/trials.csv", newline="") as file:
        assert [row["trial"] for row in csv.DictReader(file)] == ["0"]


@pytest.mark.parametrize(
    "flags, losses, message",
    [
        (["--objective", "loss"], [], "--objective loss: a val_ metric"),
        (["--objective", "val_auc"], [0.5], "val_auc: the runs log val_loss"),
        (["--max-trials", "0"], [], "--max-trials must be at least 1"),
        ([], ["bad data"], "trial 0: bad data"),
        ([], [], "search_space names 'no_such_field', which is no ModelConfig"),
        (["--output-dir", "runs/x"], [], "--output-dir: each trial writes to tuning"),
    ],
    ids=[
        "training-metric",
        "unlogged-metric",
        "no-trials",
        "bad-data",
        "bad-space",
        "output-dir",
    ],
)
def test_a_search_that_cannot_run_is_a_one_line_error(
    tmp_path, monkeypatch, capsys, flags, losses, message
):
    monkeypatch.chdir(tmp_path)
    fake = FakeTrain(losses)
    monkeypatch.setattr(tune, "train", fake)
    search_space = tune.search_space

    def space_naming_no_field(hp, model, config):
        search_space(hp, model, config)
        hp.Int("no_such_field", 1, 2)

    if message.startswith("search_space"):
        monkeypatch.setattr(tune, "search_space", space_naming_no_field)
    with pytest.raises(SystemExit) as exit_info:
        tune.main(["--max-trials", "2", *flags])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert len(fake.configs) == len(losses)  # no trial but those that ran into it


def test_predict_writes_over_no_file_unasked_and_never_its_data(tmp_path, capsys):
    data, out = tmp_path / "data.csv", tmp_path / "out.csv"
    data.write_text("x\n1\n")
    out.write_text("kept\n")
    run = str(tmp_path / "run")
    for flags, message in [
        (["--out", str(out)], f"--out {out} exists: name another, or add --overwrite"),
        (["--out", str(data), "--overwrite"], "is the --data file"),
        (["--out", str(tmp_path / "." / "data.csv")], "is the --data file"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            predict.main([run, "--data", str(data), *flags])
        assert exit_info.value.code == 2
        error = capsys.readouterr().err
        assert message in error and error.count("\n") == 1
    assert data.read_text() == "x\n1\n" and out.read_text() == "kept\n"
    # With --overwrite, predict goes on: to the run, which is missing here.
    with pytest.raises(SystemExit) as exit_info:
        predict.main([run, "--data", str(data), "--out", str(out), "--overwrite"])
    assert exit_info.value.code == 2
    assert "holds no trained model" in capsys.readouterr().err


def fake_run(run_dir, config_toml):
    """A run directory: empty model files, a schema.json, none of them read."""
    run_dir.mkdir()
    for model in ("best.keras", "serving.keras"):
        (run_dir / model).touch()
    (run_dir / "schema.json").write_text("{}\n")
    if config_toml is not None:
        (run_dir / "config.toml").write_text(config_toml)
    return run_dir


@pytest.mark.parametrize(
    "config_toml, message",
    [
        (
            '[project]\npackage = "another"\npattern = "some-pattern"\n',
            f"is a run of the some-pattern project another, not of this "
            f"{PROJECT['pattern']} project {PROJECT['package']}: evaluate and predict "
            "it with python -m another instead",
        ),
        ("[model]\n", "no config.toml names its project"),
        (None, "no config.toml names its project"),
    ],
    ids=["another-project", "no-project", "no-config"],
)
def test_a_run_of_another_project_is_one_line(tmp_path, capsys, config_toml, message):
    run = fake_run(tmp_path / "run", config_toml)
    with pytest.raises(DataError, match=message):
        evaluate.evaluate(run, tmp_path / "data.csv")
    with pytest.raises(SystemExit) as exit_info:
        predict.main([str(run), "--data", "data.csv", "--out", str(tmp_path / "p.csv")])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_a_run_of_this_project_is_one(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    write_config(run / "config.toml", ModelConfig(), TrainConfig(), "a test")
    evaluate.check_project(run)


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
    ran = training.parse_args(["--config", str(tmp_path / "runs/best/config.toml")])
    assert ran == training.parse_args(["--config", str(search / "best.toml")])

    if training.writes_tensorboard_logs():  # the HParams dashboard's record of the run
        assert list((tmp_path / "runs/best/logs").glob("events.out.tfevents.*"))
