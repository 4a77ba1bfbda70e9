"""A pairwise covering array over every pattern's options.

Choices and yes/no options come from copier.yml; numbers get a few levels each
(below). Invalid combinations are dropped by the template's own validators, through
kgen's questionnaire, so the array holds only what `kgen new` accepts. Every row is
rendered, checked for black/ruff cleanliness, and its generated tests are run (which
build the model, train it a few steps and save/load it).

The rows are the `matrix` tier (`pytest -n auto -m matrix`; CI runs a shard of it
per commit, see .ci/run). The default tier checks that the array covers every pair.
"""

from __future__ import annotations

import functools
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from allpairspy import AllPairs
from conftest import PATTERNS, cli, run_in

from kgen.errors import KgenError
from kgen.questions import Question, Questionnaire, load_questions
from kgen.template import builtin_template

# Levels for the options that are not choices; None leaves the option to its default.
NUMBER_LEVELS: dict[str, list[Any]] = {
    "encoder_depth": [1, 3],
    "encoder_width": [8, 64],
    "embedding_dim": [4, 16],
    "margin": [None, 0.5, 2.0],
    "branches": [1, 2, 3, 8],
    "branch_depth": [1, 2],
    "branch_width": [8, 32],
    "aux_loss_weight": [None, 1.0],
    "num_classes": [2, 5],
    "input_widths": ["10,15", "3,7,12"],
    "shared_width": [4, 32],
    "trunk_depth": [1, 3],
    "trunk_width": [8, 64],
    "heads": [
        "score:regression,category:classification:3",
        "priority:regression",
        "department:classification:4,urgent:classification:2,cost:regression",
    ],
    "loss_weights": [None, "score=2.0"],
    "units": [8, 64],
    "vocab_size": [6, 12],
    "sequence_length": [1, 4],
    "output_scale": [2.0],
    "output_shift": [-1.0],
    "log_epsilon": [0.001],
    "clip_min": [-1.0],
    "clip_max": [0.5],
}
INPUT_SHAPES = {
    "siamese": ["32", "12x12x3"],
    "parallel": ["24", "48"],
    "multi-output": ["16"],
}
# Free text, project naming and training defaults are covered elsewhere.
NOT_OPTIONS = {
    "pattern",
    "project_name",
    "package_name",
    "description",
    "author",
    "epochs",
    "batch_size",
    "learning_rate",
}

QUESTIONS = load_questions(builtin_template())
QUESTIONNAIRE = Questionnaire.of(builtin_template())


def levels(question: Question, pattern: str) -> list[Any]:
    if question.name == "input_shape":
        values = INPUT_SHAPES.get(pattern, [None])
    elif question.choices is not None:
        values = [value for _, value in question.choices]
    elif question.type == "bool":
        values = [False, True]
    else:
        values = NUMBER_LEVELS.get(question.name, [None])  # None: its default
    # Options that depend on other answers also get "not given", for the rows where
    # they do not apply.
    when = str(question.when)
    conditional = question.when is not True and (
        " and " in when or "pattern" not in when
    )
    if conditional and None not in values:
        values = [None, *values]
    return values


def options_of(pattern: str) -> dict[str, list[Any]]:
    """Each option of `pattern` with the levels the array combines."""
    return {
        question.name: levels(question, pattern)
        for question in QUESTIONS
        if question.name not in NOT_OPTIONS and QUESTIONNAIRE.applies(question, pattern)
    }


def check(pattern: str, answers: dict[str, Any]) -> dict[str, Any] | None:
    """The answers `kgen new` would accept, with options that do not apply dropped.

    None if they are invalid (a validator refuses them).
    """
    answers = {name: value for name, value in answers.items() if value is not None}
    while True:
        try:
            QUESTIONNAIRE.resolve({"pattern": pattern, **answers})
        except KgenError as error:
            flag, _, problem = str(error).partition(" ")
            if not problem.startswith("does not apply"):
                return None
            del answers[flag.removeprefix("--").replace("-", "_")]
            continue
        return answers


def pairs_of(row: dict[str, Any], names: list[str]) -> set[tuple]:
    return {
        ((a, row.get(a)), (b, row.get(b))) for a, b in itertools.combinations(names, 2)
    }


@functools.cache
def covering_array(pattern: str) -> list[dict[str, Any]]:
    """All-pairs rows for `pattern`: allpairspy's array, made valid, then completed.

    Making a row valid drops options that do not apply (a margin without the
    contrastive loss); the pairs that loses get a row each, the rest left default.
    """
    options = options_of(pattern)
    names = list(options)
    rows = []
    for row in AllPairs(list(options.values())):
        checked = check(pattern, dict(zip(names, row, strict=True)))
        if checked is not None and checked not in rows:
            rows.append(checked)
    covered = set().union(*(pairs_of(row, names) for row in rows))
    extra: list[dict[str, Any]] = []
    for a, b in itertools.combinations(names, 2):
        for value_a, value_b in itertools.product(options[a], options[b]):
            wanted = ((a, value_a), (b, value_b))
            if wanted in covered or not is_row(pattern, dict(wanted)):
                continue
            # Pack the pair into the first extra row it fits, else start one.
            for index, row in enumerate(extra):
                merged = {**row, **dict(wanted)}
                if all(row.get(k, v) == v for k, v in wanted) and is_row(
                    pattern, merged
                ):
                    extra[index] = merged
                    break
            else:
                extra.append(dict(wanted))
            covered.add(wanted)
    return rows + [check(pattern, row) for row in extra]


def is_row(pattern: str, answers: dict[str, Any]) -> bool:
    """Whether `kgen new` accepts `answers` as they are (None: not given)."""
    given = {name: value for name, value in answers.items() if value is not None}
    return check(pattern, answers) == given


ROWS = [
    pytest.param(pattern, answers, id=f"{pattern}-{index}")
    for pattern in PATTERNS
    for index, answers in enumerate(covering_array(pattern))
]


def flags(answers: dict[str, Any]) -> list[str]:
    args = []
    for name, value in answers.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            args.append(flag if value else "--no-" + name.replace("_", "-"))
        else:
            args += [flag, str(value)]
    return args


def test_the_array_covers_every_valid_pair_of_levels() -> None:
    for pattern in PATTERNS:
        options = options_of(pattern)
        names = list(options)
        rows = covering_array(pattern)
        covered = set().union(*(pairs_of(row, names) for row in rows))
        for a, b in itertools.combinations(names, 2):
            for value_a, value_b in itertools.product(options[a], options[b]):
                if is_row(pattern, {a: value_a, b: value_b}):
                    assert ((a, value_a), (b, value_b)) in covered
        assert all(check(pattern, row) == row for row in rows)


def check_row(pattern: str, answers: dict[str, Any], tmp_path: Path) -> None:
    project = tmp_path / "demo"
    result = cli(["new", pattern, str(project), "--yes", "--no-smoke", *flags(answers)])
    assert result.exit_code == 0, result.output
    named = re.findall(
        r"`((?:demo|tests)/[\w/.]*)`", (project / "README.md").read_text()
    )
    missing = [path for path in named if not (project / path).exists()]
    assert named and not missing, f"README.md names missing files: {missing}"
    # The parameter count kgen reports before rendering is the model's own: its
    # trainable weights (not the statistics of its Normalization layers).
    reported = re.search(r"; ([\d,]+) parameters", result.output)
    assert reported, result.output
    counted = run_in(
        project,
        "-c",
        "from demo.model import build_model; "
        "print(sum(w.numpy().size for w in build_model().trainable_weights))",
    )
    assert counted.returncode == 0, counted.stderr[-3000:]
    assert int(counted.stdout.split()[-1]) == int(reported[1].replace(",", ""))
    lint = run_in(project, "-m", "ruff", "check", "--no-cache", ".")
    assert lint.returncode == 0, lint.stdout
    # The slow runs (mixed precision, strategies): in the gallery, test_end_to_end.
    tests = run_in(
        project, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "not slow"
    )
    assert tests.returncode == 0, tests.stdout[-3000:]


@pytest.mark.slow
@pytest.mark.matrix
@pytest.mark.parametrize(("pattern", "answers"), ROWS)
def test_rows(pattern: str, answers: dict[str, Any], tmp_path: Path) -> None:
    check_row(pattern, answers, tmp_path)
