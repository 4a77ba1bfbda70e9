"""copier.yml is the source of truth: kgen's flags and answers must agree with it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import copier
import pytest
import typer
import yaml
from conftest import PATTERNS, cli

from kgen.cli import application
from kgen.errors import KgenError
from kgen.questions import Questionnaire, load_questions, load_settings


def new_flags(pattern: str, template: Path | None = None) -> dict[str, Any]:
    """The options `kgen new PATTERN` takes: question name -> click parameter."""
    args = ["new", pattern] + (["--template", str(template)] if template else [])
    with application(args) as app:
        command = typer.main.get_command(app).commands["new"]  # type: ignore[attr-defined]
        return {param.name: param for param in command.params}


def answered_in(pattern: str, template: Path) -> set[str]:
    """Every question that some answer set of `pattern` answers: the defaults, and
    each choice and yes/no of every question tried on its own."""
    questions = load_questions(template)
    questionnaire = Questionnaire.of(template)
    seen = set(questionnaire.resolve({"pattern": pattern}))
    for question in questions:
        if question.name == "pattern":
            continue
        values = [value for _, value in question.choices or []]
        values += [False, True] if question.type == "bool" else []
        for value in values:
            try:
                seen |= set(
                    questionnaire.resolve({"pattern": pattern, question.name: value})
                )
            except KgenError:  # does not apply, or invalid with the defaults
                continue
    return seen


@pytest.mark.parametrize("pattern", PATTERNS)
def test_each_pattern_has_a_flag_for_each_of_its_questions(
    template: Path, pattern: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    flags = new_flags(pattern)
    questions = {q.name: q for q in load_questions(template)}
    asked = answered_in(pattern, template) - {"pattern"}
    assert asked <= set(flags), f"questions without a flag: {asked - set(flags)}"
    # No flag for a question the pattern never asks (besides kgen's own options).
    foreign = {name for name in flags if name in questions} - asked - {"pattern"}
    assert not foreign, f"flags {pattern} never uses: {foreign}"
    for name in sorted(asked):
        question, param = questions[name], flags[name]
        assert param.opts == [question.flag]
        assert param.help == question.help
        if question.type == "bool":
            assert param.secondary_opts == [f"--no-{question.flag[2:]}"]
        elif question.choices or question.type in {"int", "float"}:
            result = cli(["new", pattern, "x", "-y", question.flag, "not-a-value"])
            assert result.exit_code == 2, result.output
            assert question.flag in result.output


def test_kgen_defaults_equal_copiers_own(template: Path, tmp_path: Path) -> None:
    kgen_answers = Questionnaire.of(template).resolve(
        {"pattern": "siamese", "project_name": "demo"}
    )
    copier.run_copy(
        str(template),
        tmp_path,
        data={"project_name": "demo"},
        defaults=True,
        quiet=True,
    )
    copier_answers = yaml.safe_load((tmp_path / ".copier-answers.yml").read_text())
    copier_answers.pop("_src_path")
    assert kgen_answers == copier_answers


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"encoder_depth": 0}, "--encoder-depth 0 must be between 1 and 8"),
        ({"input_shape": "28x28"}, "--input-shape '28x28' must be a width"),
        ({"distance": "manhattan"}, "--distance 'manhattan' is not one of"),
        ({"package_name": "My-Pkg"}, "must be a lowercase Python identifier"),
        ({"margin": -1.0}, "--margin -1.0 must be positive"),
        ({"description": "two\nlines"}, "must be a single line"),
    ],
)
def test_kgen_and_copier_reject_the_same_answers(
    template: Path, tmp_path: Path, answers: dict, message: str
) -> None:
    data = {"pattern": "siamese", "project_name": "demo", **answers}
    with pytest.raises(KgenError, match=message):
        Questionnaire.of(template).resolve(data)
    with pytest.raises(ValueError, match="Validation error|Invalid choice|not"):
        copier.run_copy(str(template), tmp_path, data=data, defaults=True, quiet=True)


def test_answers_for_other_branches_are_refused(template: Path) -> None:
    questionnaire = Questionnaire.of(template)
    with pytest.raises(KgenError, match="--margin does not apply"):
        questionnaire.resolve(
            {"pattern": "siamese", "loss": "binary_crossentropy", "margin": 2.0}
        )


def test_prompted_answers_are_checked_and_asked_again(template: Path) -> None:
    questionnaire = Questionnaire.of(template)
    replies = {"encoder_depth": ["0", "3"], "distance": ["manhattan", "cosine"]}
    problems: list[str] = []

    def ask(question, default, problem):
        if problem:
            problems.append(problem)
        pending = replies.get(question.name)
        return pending.pop(0) if pending else default

    answers = questionnaire.resolve({"pattern": "siamese"}, ask=ask)
    assert answers["encoder_depth"] == 3
    assert answers["distance"] == "cosine"
    assert answers["project_name"] == "siamese-model"
    assert answers["package_name"] == "siamese_model"
    assert len(problems) == 2


# A team's template that uses every question type copier has, `!include` too.
TYPES_TEMPLATE = {
    "copier.yml": """
        _subdirectory: project
        _answers_file: .copier-answers.yml
        pattern:
          type: str
          choices: [basic]
          default: basic
        project_name:
          type: str
          default: team-model
        ---
        !include questions/*.yml
    """,
    "questions/types.yml": """
        replicas:
          type: int
          default: 2
          validator: "{% if replicas < 1 %}must be at least 1{% endif %}"
        ratio:
          type: float
          default: 0.5
        gpu:
          type: bool
          default: false
        owners:
          type: yaml
          default: [ada]
        limits:
          type: json
          default: '{"cpu": 2}'
        data_dir:
          type: path
          default: data
        tags:
          type: str
          multiselect: true
          choices: [vision, text, audio]
          default: [vision]
        token:
          type: str
          secret: true
          default: hidden
    """,
    "project/{{ _copier_conf.answers_file }}.jinja": (
        "{{ _copier_answers|to_nice_yaml -}}\n"
    ),
    "project/settings.json.jinja": (
        '{"replicas": {{ replicas }}, "ratio": {{ ratio }}, '
        '"gpu": {{ gpu | lower }}, "owners": {{ owners | tojson }}, '
        '"limits": {{ limits | tojson }}, "data_dir": "{{ data_dir }}", '
        '"tags": {{ tags | tojson }}}\n'
    ),
}


@pytest.fixture
def types_template(tmp_path: Path) -> Path:
    root = tmp_path / "types-template"
    for name, text in TYPES_TEMPLATE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


EXPECTED = {
    "replicas": 3,
    "ratio": 0.25,
    "gpu": True,
    "owners": ["ada", "grace"],
    "limits": {"cpu": 4},
    "data_dir": "/srv/data",
    "tags": ["vision", "audio"],
}


def test_every_question_type_through_set(types_template: Path, tmp_path: Path):
    dest = tmp_path / "by-set"
    settings = {
        "replicas": "3",
        "ratio": "0.25",
        "gpu": "yes",
        "owners": "[ada, grace]",
        "limits": '{"cpu": 4}',
        "data_dir": "/srv/data",
        "tags": "[vision, audio]",
    }
    args = ["new", "basic", str(dest), "--template", str(types_template), "-y"]
    for key, value in settings.items():
        args += ["--set", f"{key}={value}"]
    result = cli(args)
    assert result.exit_code == 0, result.output
    assert json.loads((dest / "settings.json").read_text()) == EXPECTED
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert "token" not in answers  # a secret stays out of the answers file


def test_every_question_type_through_flags_and_prompts(
    types_template: Path, tmp_path: Path
) -> None:
    flags = new_flags("basic", types_template)
    assert flags["tags"].multiple  # a multiselect is a repeatable flag
    assert {"replicas", "ratio", "gpu", "owners", "limits", "data_dir"} <= set(flags)
    dest = tmp_path / "by-prompt"
    replies = [
        "",  # project_name: DEST's name
        "0",  # replicas: refused by the validator, asked again
        "3",
        "0.25",
        "maybe",  # gpu: not a yes or no, asked again
        "y",
        "[ada, grace]",
        '{"cpu": 4}',
        "/srv/data",
        "vision, audio",  # tags, a multiselect: comma-separated
        "",  # token: the default
    ]
    args = ["new", "basic", str(dest), "--template", str(types_template), "-i"]
    result = cli(args, input="\n".join(replies) + "\n")
    assert result.exit_code == 0, result.output
    assert "--replicas 0 must be at least 1" in result.output
    assert "'maybe' is not a valid bool" in result.output
    assert json.loads((dest / "settings.json").read_text()) == EXPECTED


def test_a_multiselect_and_a_bool_through_their_flags(
    types_template: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "by-flag"
    args = ["new", "basic", str(dest), "--template", str(types_template), "-y"]
    result = cli([*args, "--tags", "audio", "--tags", "text", "--gpu"])
    assert result.exit_code == 0, result.output
    written = json.loads((dest / "settings.json").read_text())
    assert written["tags"] == ["text", "audio"]  # in the order of the choices
    assert written["gpu"] is True


def test_a_bad_answer_of_each_type_is_one_line(types_template: Path, tmp_path: Path):
    base = [
        "new",
        "basic",
        str(tmp_path / "x"),
        "--template",
        str(types_template),
        "-y",
    ]
    for setting, message in [
        ("replicas=two", "--replicas 'two' is not a valid int"),
        ("owners=[unclosed", "--owners '[unclosed' is not a valid yaml"),
        ("limits={cpu", "--limits '{cpu' is not a valid json"),
        ("tags=[video]", "is not one of: vision, text, audio"),
    ]:
        result = cli([*base, "--set", setting])
        assert result.exit_code == 2, (setting, result.output)
        assert message in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_settings_come_from_copiers_loader(types_template: Path) -> None:
    # `!include` with a glob: copier's loader, not plain YAML, reads this file.
    names = [question.name for question in load_questions(types_template)]
    assert names[:3] == ["pattern", "project_name", "replicas"]
    assert load_settings(types_template)["subdirectory"] == "project"
