"""The `kgen` command line: flags, defaults, prompts, errors and start-up cost."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import PATTERNS, ROOT, cli, kgen

from kgen import __version__
from kgen.errors import SmokeTrainError


def answers_of(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir())


def test_version() -> None:
    result = cli(["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"kgen {__version__}"


def test_patterns_lists_every_pattern() -> None:
    result = cli(["patterns"])
    assert result.exit_code == 0
    assert result.output.split()[0] == "siamese"
    assert "shared encoder" in result.output


def test_help_has_examples() -> None:
    result = kgen("new", "--help")
    assert result.returncode == 0
    assert "kgen new siamese demo --yes" in result.stdout
    assert "--learning-rate" in result.stdout  # common to every pattern
    assert "--encoder-depth" not in result.stdout  # siamese's: `kgen new siamese -h`
    for pattern in PATTERNS:
        assert pattern in result.stdout


@pytest.mark.parametrize(
    ("pattern", "own", "others"),
    [
        (
            "siamese",
            ["--encoder-depth", "--margin", "--output-transform"],
            ["--branches", "--heads"],
        ),
        # Output transforms are for regression outputs: class probabilities only.
        (
            "parallel",
            ["--branches", "--aux-loss-weight"],
            ["--margin", "--cell", "--output-transform", "--output-scale"],
        ),
        (
            "encoder-decoder",
            ["--cell", "--vocab-size"],
            ["--input-shape", "--clip-max"],
        ),
    ],
)
def test_pattern_help_lists_that_patterns_flags(
    pattern: str, own: list[str], others: list[str]
) -> None:
    result = kgen("new", pattern, "--help")
    assert result.returncode == 0
    assert f"Pattern: {pattern}" in result.stdout
    for flag in [*own, "--learning-rate"]:
        assert flag in result.stdout
    for flag in others:
        assert flag not in result.stdout
    assert f"kgen new {pattern} " in result.stdout  # its examples


@pytest.mark.parametrize("pattern", PATTERNS)
def test_pattern_help_shows_the_default_of_every_flag(pattern: str) -> None:
    """Also of the flags that apply only with another answer (--aux-loss-weight
    needs --branch-outputs, --output-scale --output-transform scale_shift)."""
    from kgen.questions import Questionnaire
    from kgen.store import builtin_template

    result = kgen("new", pattern, "--help", env={"COLUMNS": "400"})
    assert result.returncode == 0, result.stderr
    rows = {
        line.split()[1]: line
        for line in result.stdout.splitlines()
        if line.startswith("│ --")
    }
    questionnaire = Questionnaire.of(builtin_template())
    shown = [
        question
        for question in questionnaire.questions
        # The pattern is an argument; author and loss weights are empty by default.
        if question.name not in {"pattern", "author", "loss_weights"}
        and questionnaire.applies(question, pattern)
    ]
    assert shown
    for question in shown:
        assert "[default: " in rows[question.flag], rows[question.flag]
    # The learning rate is Adam's or AdamW's, as the pattern compiles.
    assert "Adam, or AdamW" in rows["--learning-rate"]


def test_another_patterns_flag_says_where_it_belongs(tmp_path: Path) -> None:
    result = cli(["new", "parallel", str(tmp_path / "p"), "-y", "--margin", "2"])
    assert result.exit_code == 2
    assert "--margin does not apply to the parallel pattern" in result.output
    assert "kgen new parallel --help" in result.output
    assert not (tmp_path / "p").exists()


def test_help_imports_no_heavy_module() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kgen", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
    heavy = {"tensorflow", "keras", "copier", "black", "yaml", "jinja2", "numpy"}
    assert {name.split(".")[0] for name in imported} & heavy == set()
    assert "Usage" in result.stdout


def test_new_with_flags(tmp_path: Path) -> None:
    dest = tmp_path / "faces"
    result = cli(
        ["new", "siamese", str(dest), "--no-smoke", "--yes"]
        + ["--input-shape", "16x16x3", "--distance", "cosine", "--encoder-width", "8"],
    )
    assert result.exit_code == 0, result.output
    answers = answers_of(dest)
    assert (answers["input_shape"], answers["distance"]) == ("16x16x3", "cosine")
    assert answers["encoder_width"] == 8
    assert answers["project_name"] == "faces"
    assert "python -m faces train" in result.output
    assert leftovers(tmp_path) == ["faces"]


def test_without_a_terminal_defaults_are_used(tmp_path: Path):
    result = cli(["new", "siamese", str(tmp_path / "demo"), "--no-smoke"])
    assert result.exit_code == 0, result.output
    assert answers_of(tmp_path / "demo")["distance"] == "euclidean"


def test_dest_defaults_to_the_project_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli(["new", "siamese", "--project-name", "pair-net", "-y", "--no-smoke"])
    assert result.exit_code == 0, result.output
    assert answers_of(tmp_path / "pair-net")["package_name"] == "pair_net"


def test_prompts_ask_for_missing_answers(tmp_path: Path) -> None:
    dest = tmp_path / "asked"
    # Replies in question order; empty lines take the default shown.
    replies = {
        "Python package name": "asked_pkg",
        "Shape of one input": "8x8x1",
        "Hidden layers": "0",  # refused, then asked again
        "Distance": "l1",
        "Training loss": "binary_crossentropy",
    }
    lines = []
    for prompt in [
        "Project name",
        "Python package name",
        "One-line",
        "Author",
        "Shape of one input",
        "Size of the embedding",
        "Hidden layers",
        "Hidden layers",
        "Units",
        "Distance",
        "Training loss",
        "In-graph transform",
        "epochs",
        "batch size",
        "learning rate",
        "Multi-device",
    ]:
        lines.append(replies.pop(prompt, ""))
    lines[7] = "3"
    result = cli(
        ["new", "siamese", str(dest), "-i", "--no-smoke"],
        input="\n".join(lines) + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "--encoder-depth 0 must be between 1 and 8" in result.output
    assert "Margin" not in result.output  # not asked: no contrastive loss
    answers = answers_of(dest)
    assert answers["package_name"] == "asked_pkg"
    assert answers["input_shape"] == "8x8x1"
    assert answers["encoder_depth"] == 3
    assert answers["distance"] == "l1"
    assert answers["loss"] == "binary_crossentropy"
    assert "margin" not in answers
    assert answers["embedding_dim"] == 16


def test_an_empty_destination_is_used(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    result = cli(["new", "siamese", str(tmp_path / "demo"), "-y", "--no-smoke"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo" / "demo" / "model.py").is_file()


def test_a_failed_smoke_run_keeps_the_project_and_names_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_smoke(*_: object):
        raise SmokeTrainError("smoke-training failed with exit code 1", "LOG-PATH")

    monkeypatch.setattr("kgen.smoke.smoke_train", failing_smoke)
    result = cli(["new", "siamese", str(tmp_path / "demo"), "-y"])
    assert result.exit_code == 1
    assert "smoke-training failed" in result.output
    assert "LOG-PATH" in result.output
    assert (tmp_path / "demo" / "demo" / "train.py").is_file()


def test_smoke_train_reports_a_crashing_project(render_project, tmp_path: Path):
    import shutil

    from kgen.smoke import smoke_train

    project = tmp_path / "broken"
    shutil.copytree(render_project(), project)
    train = project / "demo" / "train.py"
    train.write_text("raise SystemExit('boom')\n" + train.read_text())
    with pytest.raises(SmokeTrainError) as error:
        smoke_train(project, "demo train")
    log = Path(error.value.log)
    assert log.is_file()
    assert "boom" in log.read_text()


def test_python_dash_m_kgen_runs(tmp_path: Path) -> None:
    result = kgen("new", "siamese", str(tmp_path / "demo"), "--yes", "--no-smoke")
    assert result.returncode == 0, result.stderr
    assert "Generated siamese project" in result.stderr
    assert os.path.isfile(tmp_path / "demo" / "demo" / "model.py")


def test_dot_fills_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`kgen new siamese .` fills the directory the shell stands in, keeping it."""
    here = tmp_path / "faces"
    here.mkdir()
    inode = here.stat().st_ino
    monkeypatch.chdir(here)
    result = cli(["new", "siamese", ".", "-y", "--no-smoke"])
    assert result.exit_code == 0, result.output
    assert here.stat().st_ino == inode  # the same directory, not a replacement
    assert (here / "faces" / "model.py").is_file()
    assert answers_of(here)["project_name"] == "faces"
    assert "cd " not in result.output  # already there
    assert [p.name for p in tmp_path.iterdir()] == ["faces"]  # no staging left


def test_next_steps_quote_the_destination(tmp_path: Path) -> None:
    dest = tmp_path / "my models" / "demo"
    result = cli(["new", "siamese", str(dest), "-y", "--no-smoke"])
    assert result.exit_code == 0, result.output
    assert f"cd '{dest}'" in result.output


def test_next_steps_name_only_the_commands_the_project_has(tmp_path: Path) -> None:
    """A project of the current release has `tune`; one of release v0.5.0 has not,
    and names its commands as modules (`python -m old.train`)."""
    result = cli(["new", "siamese", str(tmp_path / "new"), "-y", "--no-smoke"])
    assert result.exit_code == 0, result.output
    assert "python -m new train" in result.output
    assert "python -m new tune" in result.output
    bundle = ROOT / "templates" / "keras.bundle"
    args = ["--template", f"{bundle}@v0.5.0", "-y", "--no-smoke"]
    result = cli(["new", "siamese", str(tmp_path / "old"), *args])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "old" / "old" / "tune.py").exists()
    assert "python -m old.train" in result.output
    assert ".tune" not in result.output


def test_ctrl_c_during_the_smoke_run_says_where_the_project_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_: object):
        raise KeyboardInterrupt

    monkeypatch.setattr("kgen.smoke.smoke_train", interrupted)
    dest = tmp_path / "demo"
    result = cli(["new", "siamese", str(dest), "-y"])
    assert result.exit_code == 130
    assert f"interrupted: smoke-training stopped; the project is kept in {dest}" in (
        result.output
    )
    assert f"cd {dest} && python -m demo train" in result.output
    assert (dest / "demo" / "train.py").is_file()


def test_a_yes_no_question_says_which_answers_it_takes(tmp_path: Path) -> None:
    dest = tmp_path / "wide"
    result = cli(
        ["new", "parallel", str(dest), "--no-smoke", "-i", "--branches", "4"],
        # Project (4), input shape, activation, classes, depth, width: then the yes/no.
        input="\n" * 4 + "\n" * 5 + "maybe\ny\n" + "\n" * 20,
    )
    assert result.exit_code == 0, result.output
    assert "'maybe' is not a valid bool: answer yes or no (y/n" in result.output
    assert answers_of(dest)["shared_weights"] is True


def test_the_readme_describes_the_smoke_run_as_it_is() -> None:
    from kgen.smoke import EPOCHS, STEPS_PER_EPOCH

    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"for {EPOCHS} epochs of {STEPS_PER_EPOCH} steps" in readme
    assert f"over {EPOCHS} epochs of {STEPS_PER_EPOCH} steps" in readme


def readme_tree() -> list[str]:
    """The paths of the generated project that kgen's README draws as a tree."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    drawing = readme.partition("## The generated project\n\n```\ndemo/\n")[2]
    paths, folders = [], []
    for line in drawing.partition("```")[0].splitlines():
        match = re.match(r"((?:│   |    )*)[├└]── (\S+)", line)
        if match:
            depth = len(match[1]) // 4
            folders[depth:] = [match[2]]
            paths.append("".join(folders))
    return paths


def test_the_readme_draws_the_generated_project_as_it_is(tmp_path: Path) -> None:
    """The tree in kgen's README is a siamese project with --scale-out: every path
    it draws is there, and every module of its package is drawn."""
    project = tmp_path / "demo"
    result = cli(["new", "siamese", str(project), "-y", "--no-smoke", "--scale-out"])
    assert result.exit_code == 0, result.output
    drawn = readme_tree()
    assert [path for path in drawn if not (project / path).exists()] == []
    modules = {
        path.relative_to(project).as_posix()
        for path in (project / "demo").rglob("*.py")
        if path.name != "__init__.py" or path.parent == project / "demo"
    }
    assert modules - set(drawn) == set()
    # The "Next:" lines of the README's example are what kgen prints.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.partition("\nNext:\n")[2].partition("```")[0].splitlines()
    printed = result.output.partition("\nNext:\n")[2].splitlines()
    assert [" ".join(line.split()) for line in example[1:]] == [
        " ".join(line.split()) for line in printed[1 : len(example)]
    ]


def test_a_model_over_the_smoke_limit_is_not_smoke_trained_with_yes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kgen.smoke import SmokeReport

    trained: list[Path] = []

    def smoke_train(project: Path, *_: object) -> SmokeReport:
        trained.append(project)
        return SmokeReport([1.0, 0.5], 16, {}, 0.1, project / "runs" / "smoke")

    monkeypatch.setattr(
        "kgen.smoke.SMOKE_PARAMETERS", 5000
    )  # the default siamese: 7,296
    monkeypatch.setattr("kgen.smoke.smoke_train", smoke_train)
    result = cli(["new", "siamese", str(tmp_path / "demo"), "-y"])
    assert result.exit_code == 0, result.output
    assert "7,296 parameters" in result.output
    assert (
        "smoke run skipped: the model has 7,296 parameters, over the smoke run's "
        "limit of 5,000" in result.output
    )
    assert "pass --smoke-any-size to smoke-train it anyway" in result.output
    assert trained == []
    assert (tmp_path / "demo" / "demo" / "model.py").is_file()
    # Asked in a terminal; forced with --smoke-any-size.
    asked = cli(["new", "siamese", str(tmp_path / "asked"), "-i"], input="\n" * 20)
    assert asked.exit_code == 0, asked.output
    assert "smoke-train it? (y/n) [n]" in asked.output and trained == []
    forced = cli(["new", "siamese", str(tmp_path / "big"), "-y", "--smoke-any-size"])
    assert forced.exit_code == 0, forced.output
    assert "Smoke-trained: loss 1.0000 → 0.5000" in forced.output
    assert trained == [tmp_path / "big"]
