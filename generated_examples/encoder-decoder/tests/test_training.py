import json
from pathlib import Path

import keras
import numpy as np
import pytest

from encoder_decoder import __main__
from encoder_decoder.config import TrainConfig
from encoder_decoder.tools import training
from encoder_decoder.train import main, train

QUICK = ["--epochs", "2", "--steps-per-epoch", "1", "--steps-per-execution", "1"]


def test_training_learns_the_built_in_task(tmp_path):
    config = TrainConfig(epochs=8, steps_per_epoch=80, output_dir=str(tmp_path))
    results = train(config)
    # Chance token accuracy is 0.31 (words 1 in 6, the end token sure).
    assert results["accuracy"] > 0.41
    assert (tmp_path / "best.keras").is_file()
    assert json.loads((tmp_path / "metrics.json").read_text()) == results


def test_missing_data_file_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--data", str(tmp_path / "missing.npz"), "--output-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "missing.npz does not exist" in capsys.readouterr().err


def test_a_failed_start_leaves_no_run_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["--data", "missing.npz"])

    def unwritable(*args):
        raise TypeError("Object of type bytes is not JSON serializable")

    monkeypatch.setattr(training, "write_config", unwritable)
    with pytest.raises(TypeError):
        main(QUICK)
    assert list(Path("runs").glob("*")) == []


def test_ctrl_c_keeps_the_best_model_so_far(tmp_path, monkeypatch, capsys):
    save = training.BestModel.on_epoch_end

    def save_then_interrupt(callback, epoch, logs=None):
        save(callback, epoch, logs)
        raise KeyboardInterrupt

    monkeypatch.setattr(training.BestModel, "on_epoch_end", save_then_interrupt)
    with pytest.raises(SystemExit) as exit_info:
        main([*QUICK, "--output-dir", str(tmp_path / "run")])
    assert exit_info.value.code == 130
    best = tmp_path / "run" / "best.keras"
    assert best.is_file()
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith(f"Interrupted: kept {best}, the best model written so far")


def test_the_best_model_waits_for_the_save_interval(tmp_path):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    best = training.BestModel(tmp_path / "best.keras", interval=3600)
    best.set_model(model)

    def epoch(number: int, weight: float, val_loss: float) -> None:
        model.set_weights([np.full((1, 1), weight), np.zeros(1)])
        best.on_epoch_end(number, {"val_loss": val_loss})

    def written() -> float:
        return float(keras.saving.load_model(best.path).get_weights()[0][0, 0])

    epoch(0, 1.0, val_loss=0.5)  # the first improvement is written at once
    assert written() == 1.0
    epoch(1, 2.0, val_loss=0.4)  # better, but waits for the interval
    epoch(2, 3.0, val_loss=0.9)
    assert written() == 1.0
    best.on_train_end()  # writes the waiting weights, and keeps the model's
    assert written() == 2.0
    assert float(model.get_weights()[0][0, 0]) == 3.0
    epoch(3, 4.0, val_loss=0.3)
    best.interval = 0  # the interval is over: the next epoch end writes
    epoch(4, 5.0, val_loss=0.8)
    assert written() == 4.0
    assert float(model.get_weights()[0][0, 0]) == 5.0


def test_ctrl_c_before_an_epoch_ends_keeps_nothing(tmp_path, monkeypatch, capsys):
    def interrupted(model, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "fit", interrupted)
    with pytest.raises(SystemExit) as exit_info:
        main([*QUICK, "--output-dir", str(tmp_path / "run")])
    assert exit_info.value.code == 130
    assert not (tmp_path / "run").exists()
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("Interrupted: no epoch had ended: nothing kept")


def test_the_commands_are_one_entry_point(monkeypatch, capsys):
    """`python -m` the package runs a command's main with the rest of the arguments."""
    ran = []
    monkeypatch.setattr(training, "main", lambda train, argv: ran.append(argv))
    __main__.main(["train", "--epochs", "1"])
    assert ran == [["--epochs", "1"]]
    for argv in ([], ["trian"]):
        with pytest.raises(SystemExit) as exit_info:
            __main__.main(argv)
        assert exit_info.value.code == 2
        assert "choose one of train, tune" in capsys.readouterr().err
    __main__.main(["--help"])
    listed = capsys.readouterr().out
    assert all(command in listed for command in __main__.COMMANDS)
