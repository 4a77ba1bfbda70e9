"""copier.yml is the source of truth: the CLI and kgen's answers must agree with it."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from kgen.cli import RUN_OPTIONS, new
from kgen.errors import KgenError
from kgen.patterns import PATTERNS
from kgen.questions import Questionnaire, load_questions

PYTHON_TYPES = {"str": str, "int": int, "float": float, "bool": bool}


def new_command_flags() -> dict[str, tuple[Any, Any]]:
    """`kgen new`'s parameters: name -> (type without None, typer's parameter info)."""
    hints = typing.get_type_hints(new, include_extras=True)
    flags = {}
    for name, hint in hints.items():
        if name == "return":
            continue
        kind, info = typing.get_args(hint)[:2]
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        flags[name] = (options[0] if options else kind, info)
    return flags


def test_every_question_is_a_flag_of_the_same_type(template: Path) -> None:
    questions = {question.name: question for question in load_questions(template)}
    flags = new_command_flags()
    assert set(flags) - RUN_OPTIONS == set(questions)
    for name, question in questions.items():
        kind, info = flags[name]
        if name == "pattern":  # the argument, checked against PATTERNS below
            assert kind is str
            continue
        assert not info.param_decls, f"{name}: the flag must be {question.flag}"
        if question.choices is not None:
            assert typing.get_origin(kind) is typing.Literal, name
            assert sorted(typing.get_args(kind)) == sorted(question.choices.values())
        else:
            assert kind is PYTHON_TYPES[question.type], name


def test_pattern_catalog_matches_the_template(template: Path) -> None:
    (pattern,) = [q for q in load_questions(template) if q.name == "pattern"]
    assert pattern.choices == {
        f"{name}: {description}": name for name, description in PATTERNS.items()
    }


def test_kgen_defaults_equal_copiers_own(template: Path, tmp_path: Path) -> None:
    kgen_answers = Questionnaire(load_questions(template)).resolve(
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
        Questionnaire(load_questions(template)).resolve(data)
    with pytest.raises(ValueError, match="Validation error|Invalid choice|not"):
        copier.run_copy(str(template), tmp_path, data=data, defaults=True, quiet=True)


def test_answers_for_other_branches_are_refused(template: Path) -> None:
    questionnaire = Questionnaire(load_questions(template))
    with pytest.raises(KgenError, match="--margin does not apply"):
        questionnaire.resolve(
            {"pattern": "siamese", "loss": "binary_crossentropy", "margin": 2.0}
        )


def test_prompted_answers_are_checked_and_asked_again(template: Path) -> None:
    questionnaire = Questionnaire(load_questions(template))
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
