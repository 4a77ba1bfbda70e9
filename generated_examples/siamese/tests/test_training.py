import json
from pathlib import Path

import keras
import pytest

from siamese import __main__
from siamese.config import TrainConfig
from siamese.tools import training
from siamese.train import main, train

QUICK = ["--epochs", "2", "--steps-per-epoch", "1", "--steps-per-execution", "1"]


def test_training_learns_the_built_in_task(tmp_path):
    config = TrainConfig(epochs=8, steps_per_epoch=80, output_dir=str(tmp_path))
    results = train(config)
    # Chance accuracy is 0.5.
    assert results["pair_accuracy"] > 0.7
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
    save = keras.callbacks.ModelCheckpoint.on_epoch_end

    def save_then_interrupt(callback, epoch, logs=None):
        save(callback, epoch, logs)
        raise KeyboardInterrupt

    monkeypatch.setattr(
        keras.callbacks.ModelCheckpoint, "on_epoch_end", save_then_interrupt
    )
    with pytest.raises(SystemExit) as exit_info:
        main([*QUICK, "--output-dir", str(tmp_path / "run")])
    assert exit_info.value.code == 130
    best = tmp_path / "run" / "best.keras"
    assert best.is_file()
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith(f"Interrupted: kept {best}, the best model so far")
    # evaluate and predict call pairs "same" by the schema's threshold: set already.
    schema = json.loads((tmp_path / "run" / "schema.json").read_text())
    assert schema["threshold"] is not None


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
