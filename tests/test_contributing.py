"""CONTRIBUTING.md's recipe holds: a new pattern is a folder plus one line.

`tests/toy_pattern/` is the smallest pattern (one hidden layer): copied into a temp
copy of the built-in template as `patterns/toy/`, with its one registration line in
copier.yml, kgen offers it, with its own flag, and the project it makes renders,
lints, smoke-trains and passes its own tests. No other file of the template changes.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, kgen, run_in

from kgen.store import builtin_template

pytestmark = pytest.mark.slow

REGISTRATION = '    "toy: one hidden layer, the smallest pattern": toy\n'


def add_toy_pattern(template: Path) -> list[str]:
    """The toy pattern added as CONTRIBUTING.md says; returns copier.yml's diff."""
    shutil.copytree(builtin_template(), template)
    shutil.copytree(ROOT / "tests" / "toy_pattern", template / "patterns" / "toy")
    config = template / "copier.yml"
    before = config.read_text(encoding="utf-8").splitlines(keepends=True)
    (last,) = [line for line in before if line.rstrip().endswith(": encoder-decoder")]
    after = list(before)
    after.insert(before.index(last) + 1, REGISTRATION)
    config.write_text("".join(after), encoding="utf-8")
    return [
        line
        for line in difflib.unified_diff(before, after, n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_a_new_pattern_is_a_folder_and_one_line(tmp_path: Path) -> None:
    template = tmp_path / "keras"
    assert add_toy_pattern(template) == ["+" + REGISTRATION]
    listed = kgen("new", "toy", "--help", "--template", str(template))
    assert listed.returncode == 0, listed.stderr
    assert "Pattern: toy" in listed.stdout and "--toy-width" in listed.stdout
    assert "--margin" not in listed.stdout  # siamese's, not toy's
    project = tmp_path / "demo"
    result = kgen(
        "new", "toy", str(project), "--template", str(template), "--yes",
        "--toy-width", "16", "--num-classes", "4",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Smoke-trained: loss" in result.stderr
    readme = (project / "README.md").read_text()
    assert "demo/model.py" in readme
    # One entry point, `python -m demo COMMAND`: no command is a module of its own.
    assert "python -m demo train" in readme and "python -m demo." not in readme
    for check in (
        ["-m", "ruff", "check", "--no-cache", "."],
        ["-m", "black", "--check", "."],
    ):
        outcome = run_in(project, *check)
        assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    tests = run_in(project, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert " passed" in tests.stdout
