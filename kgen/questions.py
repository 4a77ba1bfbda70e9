"""The questions of a copier template, and how kgen answers them.

`copier.yml` is the single source of truth for the questions: their types, choices,
defaults, `when` conditions and validators. kgen reads it to fill in what the user did
not give on the command line (asking at a prompt or taking the defaults) and checks
every answer the way copier will, so errors surface before anything is written. The
complete answers then go to copier, which validates them once more.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kgen.errors import KgenError

CASTS: dict[str, Callable[[Any], Any]] = {
    "str": str,
    "int": int,
    "float": float,
}
TRUE_WORDS = {"true", "yes", "y", "on", "1"}
FALSE_WORDS = {"false", "no", "n", "off", "0"}


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise ValueError("answer yes or no (y/n, true/false, on/off, 1/0)")


CASTS["bool"] = _to_bool


@dataclasses.dataclass(frozen=True)
class Question:
    """One question of `copier.yml`, as written there (templated fields unrendered)."""

    name: str
    type: str = "str"
    help: str = ""
    default: Any = None
    choices: Mapping[str, Any] | None = None
    when: Any = True
    validator: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @classmethod
    def from_yaml(cls, name: str, spec: Any) -> Question:
        if not isinstance(spec, dict):  # copier's short form: `name: default`
            return cls(name=name, type=_type_of(spec), default=spec)
        choices = spec.get("choices")
        if isinstance(choices, list):
            choices = {str(choice): choice for choice in choices}
        return cls(
            name=name,
            type=spec.get("type", _type_of(spec.get("default"))),
            help=spec.get("help", ""),
            default=spec.get("default"),
            choices=choices,
            when=spec.get("when", True),
            validator=spec.get("validator"),
        )


def _type_of(value: Any) -> str:
    for name, kind in (("bool", bool), ("int", int), ("float", float)):
        if isinstance(value, kind):
            return name
    return "str"


def read_config(template: Path) -> dict[str, Any]:
    """The parsed `copier.yml` of the template at `template` (parsed once)."""
    for name in ("copier.yml", "copier.yaml"):
        if (template / name).is_file():
            return dict(_read_config(template.absolute(), (template / name).stat()))
    return dict(_read_config(template.absolute(), None))


@functools.cache
def _read_config(template: Path, stat: Any) -> dict[str, Any]:
    """`read_config`, cached by the file's stat (so an edited file is read again)."""
    import yaml

    # libyaml's loader when PyYAML has it: several times faster on copier.yml.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    for name in ("copier.yml", "copier.yaml"):
        config = template / name
        if config.is_file():
            break
    else:
        raise KgenError(
            f"{template} is not a copier template (no copier.yml); "
            "point --template at a directory or repository that has one"
        )
    try:
        data = yaml.load(config.read_text(encoding="utf-8"), Loader=loader) or {}
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise KgenError(f"cannot read {config} ({reason}); check the file") from None
    except yaml.YAMLError as error:
        # Not plain YAML: copier's own reading (`!include`, several documents).
        data = _read_as_copier(config, error)
    if not isinstance(data, dict):
        raise KgenError(f"{config} must be a mapping of questions; fix the file")
    return data


def _read_as_copier(config: Path, plain_error: Exception) -> Any:
    """`config` read the way copier reads it, or the plain YAML error as a KgenError.

    copier.yml may `!include` other YAML files and hold several documents; copier's
    loader merges them. It is copier's internal API (copier exports only its run_*
    functions), so kgen uses it only for files that plain YAML cannot read.
    """
    import yaml

    try:
        from copier._template import load_template_config
    except ImportError:  # pragma: no cover - an older copier
        from copier.template import load_template_config
    from copier.errors import CopierError

    try:
        return load_template_config(config, quiet=True)
    except (CopierError, yaml.YAMLError, TypeError, ValueError):
        mark = getattr(plain_error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise KgenError(f"{config} is not valid YAML{where}; fix the file") from None


def load_questions(template: Path) -> list[Question]:
    """Read the questions of the copier template at `template`, in their order."""
    return [
        Question.from_yaml(name, spec)
        for name, spec in read_config(template).items()
        if not name.startswith("_")
    ]


def load_settings(template: Path) -> dict[str, Any]:
    """The template's settings (copier.yml's `_` keys), without the underscore."""
    return {
        name[1:]: value
        for name, value in read_config(template).items()
        if name.startswith("_")
    }


# Asks one question: (question, rendered default, why the last reply was refused).
Ask = Callable[[Question, Any, "str | None"], Any]


class Questionnaire:
    """Answers a template's questions from given values, a prompt, or the defaults."""

    def __init__(self, questions: list[Question], root: Path | None = None) -> None:
        from jinja2 import FileSystemLoader
        from jinja2.sandbox import SandboxedEnvironment

        self.questions = questions
        # The environment copier renders questions with, so defaults, `when` and
        # validators mean here exactly what they mean to copier. `root`, the
        # template's directory, lets kgen's settings import the template's files.
        self.env = SandboxedEnvironment(
            loader=FileSystemLoader(str(root)) if root is not None else None,
            extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
        )
        self._compiled: dict[str, Any] = {}

    def resolve(
        self,
        given: Mapping[str, Any],
        ask: Ask | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Complete `given` into the full answers, in question order.

        `defaults` replaces the template's default of some questions (e.g. the project
        name from the destination directory).

        Questions whose `when` is false are left out. Missing answers come from `ask`
        (called with the question and its rendered default, again until valid) or,
        without it, from the defaults. Raises KgenError on an invalid or unknown answer.
        """
        names = {question.name for question in self.questions}
        unknown = sorted(set(given) - names)
        if unknown:
            raise KgenError(
                f"unknown question {unknown[0]!r}; "
                f"the template asks: {', '.join(sorted(names))}"
            )
        answers: dict[str, Any] = {}
        # What templates see: the answers plus the hidden values of questions whose
        # `when` is false (copier computes those from their defaults, unrecorded).
        context: dict[str, Any] = {}
        for question in self.questions:
            if not self._truthy(self.render(question.when, context)):
                if question.name in given:
                    raise KgenError(
                        f"{question.flag} does not apply to this project "
                        f"(it needs {_condition(question.when)}); drop it"
                    )
                if question.default is not None:
                    hidden = self.default(question, context)
                    context[question.name] = CASTS[question.type](hidden)
                continue
            if question.name in given:
                value = self.check(question, given[question.name], context)
            elif ask is None:
                value = self.check(
                    question, self._default(question, context, defaults), context
                )
            else:
                value = self._ask_until_valid(
                    question, self._default(question, context, defaults), context, ask
                )
            answers[question.name] = context[question.name] = value
        return answers

    def _default(
        self,
        question: Question,
        context: Mapping[str, Any],
        overrides: Mapping[str, Any] | None,
    ) -> Any:
        if overrides and question.name in overrides:
            return overrides[question.name]
        return self.default(question, context)

    def _ask_until_valid(
        self, question: Question, default: Any, context: Mapping[str, Any], ask: Ask
    ) -> Any:
        problem = None
        while True:
            reply = ask(question, default, problem)
            try:
                return self.check(question, reply, context)
            except KgenError as error:
                problem = str(error)

    def default(self, question: Question, answers: Mapping[str, Any]) -> Any:
        """The question's default, rendered against the answers so far."""
        return self.render(question.default, answers)

    def check(self, question: Question, value: Any, answers: Mapping[str, Any]) -> Any:
        """Cast `value` to the question's type and validate it; return the answer."""
        if value is None:
            raise KgenError(f"{question.flag} is required; pass a value")
        try:
            value = CASTS[question.type](value)
        except (KeyError, ValueError) as error:
            raise KgenError(
                f"{question.flag} {value!r} is not a valid {question.type}: {error}"
            ) from None
        if question.choices is not None:
            allowed = [
                self.render(choice, answers) for choice in question.choices.values()
            ]
            if value not in allowed:
                raise KgenError(
                    f"{question.flag} {value!r} is not one of: "
                    f"{', '.join(map(str, allowed))}"
                )
        if question.validator:
            message = self.render(question.validator, {**answers, question.name: value})
            message = " ".join(str(message).split())
            if message:
                raise KgenError(f"{question.flag} {value!r} {message}")
        return value

    def render(self, value: Any, answers: Mapping[str, Any]) -> Any:
        """Render a templated string against the answers; other values pass through."""
        if not isinstance(value, str) or "{" not in value:
            return value
        if value not in self._compiled:
            self._compiled[value] = self.env.from_string(value)
        return self._compiled[value].render(**answers)

    @staticmethod
    def _truthy(value: Any) -> bool:
        if isinstance(value, str):
            return value.strip().lower() not in FALSE_WORDS | {"", "none"}
        return bool(value)


def _condition(when: Any) -> str:
    text = str(when).strip()
    if text.startswith("{{") and text.endswith("}}"):
        text = text[2:-2].strip()
    return text
