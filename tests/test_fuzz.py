"""Property-based tests: any valid answers render a sound project, any invalid ones
are refused with one line, exit 2 and nothing written. Free text lands escaped.

The number of examples is bounded for CI; raise KGEN_FUZZ_EXAMPLES to dig deeper.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import black
import copier
import pytest
import yaml
from conftest import GIT_IDENTITY, PATTERNS, environment, git
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from kgen.cli import run
from kgen.errors import KgenError
from kgen.formatting import black_mode
from kgen.generate import render
from kgen.questions import Question, Questionnaire, load_questions
from kgen.template import builtin_source

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

SOURCE = builtin_source()
QUESTIONS = load_questions(SOURCE.local)
QUESTIONNAIRE = Questionnaire.of(builtin_source().local)
EXAMPLES = int(os.environ.get("KGEN_FUZZ_EXAMPLES", "8"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    # capsys is read (and so emptied) within each example.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)

# One line of any printable text: quotes, backslashes, Jinja delimiters, unicode.
ONE_LINE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.just("\t"),
    max_size=100,
) | st.sampled_from(
    [
        '"; import os; os.system("echo pwned") #',
        "{{ 7 * 7 }} {% raw %}{% endraw %} {# c #}",
        "back\\slash \\n \\u0041 ''' \"\"\"",
        "tab\tline separator\u2028next line\u0085 C1 \x9b",
        "Grüße, 日本語, emoji 🚀",
        "x" * 100,
    ]
)
NAME = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
# Names at their longest too: black re-wraps lines by length, so the template's output
# must be black-stable at every length a validator lets through.
HEAD_NAME = NAME | st.from_regex(r"[a-z][a-z0-9_]{30}", fullmatch=True)
PACKAGE = NAME.map(lambda n: f"p_{n}") | st.from_regex(
    r"[a-z][a-z0-9_]{39}", fullmatch=True
)
HEAD = st.tuples(
    HEAD_NAME,
    st.one_of(
        st.just("regression"),
        st.integers(2, 12).map("classification:{}".format),
        st.just("classification:1000"),
    ),
)


@st.composite
def heads_and_weights(draw: st.DrawFn) -> dict[str, str]:
    heads = draw(st.lists(HEAD, min_size=2, max_size=8, unique_by=lambda h: h[0]))
    names = [name for name, _ in heads]
    assume(not {"features", "trunk", "loss", "val"} & set(names))
    assume(not any(name.startswith("val_") for name in names))
    weighted = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    weights = [
        f"{name}={draw(st.sampled_from(['0.5', '1', '2.0', '123456.0000001']))}"
        for name in weighted
    ]
    return {
        "heads": ",".join(f"{name}:{kind}" for name, kind in heads),
        "loss_weights": ",".join(weights),
    }


def strategy(question: Question, pattern: str) -> st.SearchStrategy[Any]:
    """Values for one question, mostly valid, kept small so renders stay quick."""
    name = question.name
    if question.choices is not None:
        return st.sampled_from([value for _, value in question.choices])
    if question.type == "bool":
        return st.booleans()
    if name == "input_shape":
        width = (st.integers(1, 64) | st.just(99999)).map(str)
        image = st.tuples(st.integers(4, 16), st.integers(4, 16), st.integers(1, 3))
        images = image.map(lambda s: "x".join(map(str, s)))
        return width | images if pattern == "siamese" else width
    if name == "input_widths":
        widths = st.integers(1, 40) | st.just(99999)
        return st.lists(widths, min_size=2, max_size=16).map(
            lambda ws: ",".join(map(str, ws))
        )
    if name in {"description", "author"}:
        return ONE_LINE
    if name == "project_name":
        return st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,39}", fullmatch=True)
    if name == "package_name":
        return PACKAGE
    if question.type == "int":
        return st.integers(1, 12) | st.sampled_from([32, 1000, 4096, 100000])
    if question.type == "float":
        small = st.floats(0.001, 0.9).map(lambda x: round(x, 4))
        return small | st.floats(-1e300, 1e300) | st.sampled_from([1e-300, -1e-7])
    return st.nothing()


@st.composite
def valid_answers(draw: st.DrawFn, pattern: str) -> dict[str, Any]:
    answers: dict[str, Any] = {"pattern": pattern}
    if pattern == "multi-output":
        answers |= draw(heads_and_weights())
    for question in QUESTIONS:
        if question.when is False:
            continue  # computed by the template, never answered
        if question.name in answers or draw(st.booleans()):
            continue  # left to its default half of the time
        answers[question.name] = draw(strategy(question, pattern))
    # Keep what applies and is valid, as `kgen new` would accept it.
    while True:
        try:
            QUESTIONNAIRE.resolve(answers)
        except KgenError as error:
            name = str(error).partition(" ")[0].removeprefix("--").replace("-", "_")
            assume(name in answers)  # else a default is invalid with these answers
            del answers[name]
            continue
        return answers


@pytest.mark.parametrize("pattern", list(PATTERNS))
@FUZZ
@given(data=st.data())
def test_valid_answers_render_sound_projects(
    pattern: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    given_answers = data.draw(valid_answers(pattern))
    answers = QUESTIONNAIRE.resolve(given_answers)
    # copier's own output, unformatted: what `copier update` diffs against.
    project = tmp_path_factory.mktemp("fuzz") / "demo"
    copier.run_copy(SOURCE.url, project, data=answers, defaults=True, quiet=True)
    mode = black_mode(project)
    for path in project.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        ast.parse(text)
        with pytest.raises(black.NothingChanged):
            black.format_file_contents(text, fast=False, mode=mode)
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--quiet", str(project)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["description"] == answers["description"]
    if answers["author"]:
        assert pyproject["project"]["authors"] == [{"name": answers["author"]}]
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    for name, value in answers.items():
        assert recorded[name] == value, name


# Values no validator accepts, per question kind.
INVALID = {
    "int": st.integers(-(10**6), 0) | st.integers(10**6, 10**9),
    "float": st.sampled_from([0.0, -1.0, float("nan"), float("inf"), 1e9]),
    "str": st.text(max_size=30),
}


@pytest.mark.parametrize("pattern", list(PATTERNS))
@FUZZ
@given(data=st.data())
def test_invalid_answers_are_refused_and_write_nothing(
    pattern: str,
    data: st.DataObject,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = data.draw(valid_answers(pattern))
    applicable = [
        q
        for q in QUESTIONS
        if q.name in QUESTIONNAIRE.resolve(answers) and q.name != "pattern"
    ]
    question = data.draw(st.sampled_from(applicable))
    answers[question.name] = data.draw(INVALID.get(question.type, INVALID["str"]))
    assume("\x00" not in str(answers[question.name]))  # not passable as an argument
    try:
        QUESTIONNAIRE.resolve(answers)
    except KgenError:
        pass
    else:
        assume(False)  # happened to be valid
    where = tmp_path_factory.mktemp("refused")
    args = ["new", pattern, str(where / "demo"), "--yes", "--no-smoke"]
    for name, value in answers.items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        if name != "pattern":
            args += ["--set", f"{name}={value}"]
    with pytest.raises(SystemExit) as exit_info:
        run(args)
    output = capsys.readouterr().err
    assert exit_info.value.code == 2, output
    assert output.startswith("error: ") and output.count("\n") == 1, output
    assert list(where.iterdir()) == []


# One answer to change per pattern, as a user would with `kgen update --set`.
CHANGES = {
    "siamese": ("distance", ["l1", "euclidean", "cosine"]),
    "parallel": ("num_classes", [3, 7]),
    "multi-input": ("num_classes", [3, 7]),
    "multi-output": ("epochs", [20, 21]),
    "encoder-decoder": ("units", [128, 64]),
}


def assert_clean_update(project: Path, label: str) -> None:
    """No conflict markers or .rej files, and black has nothing to change."""
    status = git(project, "status", "--porcelain", "--untracked-files=all")
    assert ".rej" not in status, f"{label}: {status}"
    mode = black_mode(project)
    for path in project.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "<<<<<<<" not in text, f"{label}: conflict in {path}"
        with pytest.raises(black.NothingChanged):
            black.format_file_contents(text, fast=False, mode=mode)


@pytest.mark.parametrize("pattern", list(PATTERNS))
# Each example renders and updates four times: report the first failure unshrunk.
@settings(
    FUZZ,
    max_examples=max(2, EXAMPLES // 3),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(data=st.data())
def test_updates_of_an_unedited_project_never_conflict(
    pattern: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """kgen update and plain copier update, with no change and with a changed answer.

    Whatever the names and counts: an update of a project the user never edited
    changes nothing or exactly what the answer changed, without a conflict.
    """
    from kgen.update import update

    answers = QUESTIONNAIRE.resolve(data.draw(valid_answers(pattern)))
    note = f"answers: {answers}"
    name, values = CHANGES[pattern]
    changed = next(value for value in values if value != answers[name])
    with environment(**GIT_IDENTITY):
        for tool in ("kgen", "copier"):
            project = tmp_path_factory.mktemp(tool) / "demo"
            render(SOURCE.url, project, answers, record=SOURCE.record)
            git(project, "init", "--quiet")
            git(project, "add", "--all")
            git(project, "commit", "--quiet", "-m", "Generated by kgen")
            if tool == "kgen":
                report = update(project, {})
                assert report.changed == [] and report.conflicts == [], note
                report = update(project, {name: changed})
                assert report.conflicts == [], f"{report.changed}; {note}"
            else:
                copier.run_update(project, defaults=True, overwrite=True, quiet=True)
                assert git(project, "status", "--porcelain") == "", note
                copier.run_update(
                    project,
                    data={name: changed},
                    defaults=True,
                    overwrite=True,
                    quiet=True,
                )
            assert_clean_update(project, f"{tool}, {note}")
            recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
            assert recorded[name] == changed, note
