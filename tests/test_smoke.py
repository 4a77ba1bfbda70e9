"""The smoke protocol and the "Next:" lines, on small fake projects.

A template's `_kgen_smoke` is a module and its leading arguments, "PKG train"
(`python -m PKG train`); older templates name a module alone, "PKG.train".
"""

from __future__ import annotations

import contextlib
import json
import textwrap
import types
from pathlib import Path

import pytest
import typer

from kgen.console import next_steps, smoke_step
from kgen.errors import SmokeTrainError
from kgen.smoke import EPOCHS, STEPS_PER_EPOCH, by_hand, smoke_train, train_command

# A train command that does what the protocol asks, and records its arguments.
FAKE_TRAIN = """
import argparse, json, pathlib, sys

def main(argv):
    parser = argparse.ArgumentParser()
    for flag in ("--epochs", "--steps-per-epoch"):
        parser.add_argument(flag, type=int)
    parser.add_argument("--output-dir", type=pathlib.Path)
    args = parser.parse_args(argv)
    rows = [f"{epoch},{1 / (epoch + 1)}" for epoch in range(args.epochs)]
    (args.output_dir / "history.csv").write_text("epoch,loss\\n" + "\\n".join(rows))
    (args.output_dir / "metrics.json").write_text(json.dumps({"accuracy": 0.5}))
    (args.output_dir / "argv.json").write_text(json.dumps(sys.argv[1:]))
"""


def fake_project(root: Path, layout: str) -> Path:
    """A project whose package `demo` trains as `python -m demo train` ("new") or
    as `python -m demo.train` ("old")."""
    package = root / "demo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    if layout == "new":
        (package / "train.py").write_text("")
        main = FAKE_TRAIN + textwrap.dedent("""
            if sys.argv[1:2] != ["train"]:
                sys.exit(f"usage: python -m demo COMMAND; not {sys.argv[1:]}")
            main(sys.argv[2:])
            """)
        (package / "__main__.py").write_text(main)
    else:
        (package / "train.py").write_text(
            FAKE_TRAIN + "\nif __name__ == '__main__':\n    main(sys.argv[1:])\n"
        )
    return root


def test_train_commands_of_both_forms() -> None:
    assert train_command("demo train") == ("demo", ["train"])
    assert train_command("demo.train") == ("demo.train", [])
    assert train_command("  demo   train --quiet ") == ("demo", ["train", "--quiet"])
    assert by_hand("demo train") == "python -m demo train"
    assert by_hand("demo.train") == "python -m demo.train"
    for bad in ("", "  ", "demo 'train"):
        with pytest.raises(SmokeTrainError, match="_kgen_smoke"):
            train_command(bad)


@pytest.mark.parametrize(
    ("layout", "command", "argv"),
    [
        ("new", "demo train", ["train"]),
        ("old", "demo.train", []),  # a project of an older template release
    ],
)
def test_smoke_train_runs_the_command_with_its_leading_arguments(
    tmp_path: Path, layout: str, command: str, argv: list[str]
) -> None:
    project = fake_project(tmp_path / "p", layout)
    report = smoke_train(project, command)
    assert len(report.losses) == EPOCHS
    assert report.metrics == {"accuracy": 0.5}
    recorded = json.loads((project / "runs" / "smoke" / "argv.json").read_text())
    assert recorded[: len(argv) + 4] == [
        *argv,
        *["--epochs", str(EPOCHS), "--steps-per-epoch", str(STEPS_PER_EPOCH)],
    ]


def test_a_prewarmed_process_runs_a_packages_main(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kgen.smoke import Prewarmed

    stub = tmp_path / "stub"  # a Keras that imports at once
    stub.mkdir()
    (stub / "keras.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(stub))
    project = fake_project(tmp_path / "p", "new")
    args = ["train", "--epochs", "2", "--output-dir", str(tmp_path)]
    with Prewarmed() as warm:
        code = warm.run(project, "demo", args, tmp_path / "log")
    assert code == 0, (tmp_path / "log").read_text()  # None: it did not run
    assert json.loads((tmp_path / "argv.json").read_text()) == args


def test_ctrl_c_names_the_command_to_train_by_hand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("kgen.smoke.smoke_train", interrupted)
    terminal = types.SimpleNamespace(status=lambda _: contextlib.nullcontext())
    for command, spelled in [
        ("demo train", "python -m demo train"),
        ("demo.train", "python -m demo.train"),
    ]:
        with pytest.raises(typer.Exit):
            smoke_step(terminal, tmp_path, command)
        assert f"cd {tmp_path} && {spelled}`" in capsys.readouterr().err


def next_lines(project: Path, capsys: pytest.CaptureFixture) -> list[str]:
    plan = types.SimpleNamespace(answers={"package_name": "demo"}, dest=project)
    next_steps(plan, project)
    return [line.split("#")[0].strip() for line in capsys.readouterr().out.splitlines()]


def test_next_lines_of_the_current_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    project = fake_project(tmp_path / "p", "new")
    lines = next_lines(project, capsys)
    assert "python -m demo train" in lines
    assert not any("tune" in line for line in lines)  # no tools/tune.py
    (project / "demo" / "tools").mkdir()
    (project / "demo" / "tools" / "tune.py").write_text("")
    lines = next_lines(project, capsys)
    assert lines[lines.index("python -m demo train") + 1] == "python -m demo tune"
    assert not any("demo." in line for line in lines)


def test_next_lines_of_an_older_project(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    project = fake_project(tmp_path / "p", "old")
    assert "python -m demo.train" in next_lines(project, capsys)
    assert not any("tune" in line for line in next_lines(project, capsys))
    (project / "demo" / "tune.py").write_text("")  # template 0.9 and on
    lines = next_lines(project, capsys)
    assert lines[lines.index("python -m demo.train") + 1] == "python -m demo.tune"
