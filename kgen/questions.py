"""The questions of a copier template, answered with copier's own machinery.

`copier.yml` is the single source of truth for the questions: their types, choices,
defaults, `when` conditions and validators. kgen reads it twice over:

- cheaply, as data (`load_questions`), to derive the `kgen new` flags and their help
  without importing copier, so `kgen --help` stays fast;
- through copier's own `Question` class (`Questionnaire`), to cast, parse, default
  and validate every answer exactly as `copier copy` will, for every question type
  copier has (str, int, float, bool, json, yaml, path, multiselect choices).

The complete answers then go to copier, which validates them once more.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgen.errors import KgenError

if TYPE_CHECKING:
    from kgen.copier_api import AskedQuestion

# copier's scalar types, and the Python type of a default that implies one.
NATIVE_TYPES = {"bool": bool, "int": int, "float": float, "str": str}
TRUE_WORDS = {"y", "yes", "t", "true", "on", "1"}
FALSE_WORDS = {"n", "no", "f", "false", "off", "0"}


@dataclasses.dataclass(frozen=True)
class Question:
    """One question of `copier.yml`, as written there (templated fields unrendered)."""

    name: str
    spec: Mapping[str, Any]

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def help(self) -> str:
        return " ".join(str(self.spec.get("help", "")).split())

    @property
    def default(self) -> Any:
        return self.spec.get("default")

    @property
    def when(self) -> Any:
        return self.spec.get("when", True)

    @property
    def multiselect(self) -> bool:
        return bool(self.spec.get("multiselect", False))

    @property
    def type(self) -> str:
        """The type name as copier reads it (a templated type counts as str here)."""
        written = self.spec.get("type")
        if written:
            return "str" if "{" in str(written) else str(written)
        kind = type(self.default).__name__
        return kind if kind in NATIVE_TYPES else "yaml"

    @property
    def choices(self) -> list[tuple[str, Any]] | None:
        """(label, value) pairs as written; None when there are none or templated."""
        choices = self.spec.get("choices")
        if not choices or isinstance(choices, str):
            return None
        pairs = choices.items() if isinstance(choices, dict) else choices
        result = []
        for choice in pairs:
            label, value = (
                choice if isinstance(choice, (list, tuple)) else (choice, choice)
            )
            if isinstance(value, dict):  # copier's extended form: {value, validator}
                value = value.get("value")
            result.append((str(label), value))
        return result


def config_file(template: Path) -> Path | None:
    """The template's `copier.yml` (or `copier.yaml`); None if it has neither."""
    for name in ("copier.yml", "copier.yaml"):
        if (template / name).is_file():
            return template.absolute() / name
    return None


def read_config(template: Path) -> dict[str, Any]:
    """The parsed `copier.yml` of the template at `template` (parsed once)."""
    config = config_file(template)
    if config is None:
        raise KgenError(
            f"{template.absolute()} is not a copier template (no copier.yml); "
            "point --template at a directory or repository that has one"
        )
    return dict(_read_config(config, config.stat()))


@functools.cache
def _read_config(config: Path, stat: Any) -> dict[str, Any]:
    """`read_config`, cached by the file's stat (so an edited file is read again)."""
    import yaml

    # libyaml's loader when PyYAML has it: several times faster on copier.yml.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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

    copier.yml may `!include` other YAML files (globs too) and hold several
    documents; copier's loader merges them. kgen uses it only for files that plain
    YAML cannot read, because it imports all of copier.
    """
    import yaml

    from kgen.copier_api import load_template_config

    try:
        return load_template_config(config, quiet=True)
    except Exception:  # copier raises its own, YAML's and OS errors here
        mark = getattr(plain_error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = " ".join(str(getattr(plain_error, "problem", "") or "").split())
        detail = (
            f" ({problem})"
            if problem and isinstance(plain_error, yaml.YAMLError)
            else ""
        )
        raise KgenError(
            f"{config} is not valid YAML{where}{detail}; fix the file"
        ) from None


def load_questions(template: Path) -> list[Question]:
    """The questions of the copier template at `template`, in their order."""
    questions = []
    for name, spec in read_config(template).items():
        if name.startswith("_"):
            continue
        if not isinstance(spec, dict):  # copier's short form: `name: default`
            spec = {"default": spec}
        questions.append(Question(name, spec))
    secret = set(load_settings(template).get("secret_questions") or [])
    return [
        Question(q.name, {**q.spec, "secret": True}) if q.name in secret else q
        for q in questions
    ]


def own_questions(template: Path) -> dict[str, Any]:
    """The questions written in copier.yml itself, without what it `!include`s.

    Fast (YAML only, no copier import): enough for `kgen patterns` and for the
    pattern catalog when the `pattern` question is in copier.yml, as in kgen's.
    """
    import yaml

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        pass

    Loader.add_constructor("!include", lambda loader, node: None)
    config = config_file(template)
    if config is None:
        return {}  # the full read reports the problem
    try:
        documents = list(yaml.load_all(config.read_text(encoding="utf-8"), Loader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}  # the full read reports the problem
    merged: dict[str, Any] = {}
    for document in documents:
        if isinstance(document, dict):
            merged |= {k: v for k, v in document.items() if not k.startswith("_")}
    return merged


def load_settings(template: Path) -> dict[str, Any]:
    """The template's settings (copier.yml's `_` keys), without the underscore."""
    return {
        name[1:]: value
        for name, value in read_config(template).items()
        if name.startswith("_")
    }


# Asks one question: (question, default as text, why the last reply was refused).
Ask = Callable[[Question, str, "str | None"], Any]


class Questionnaire:
    """Answers a template's questions from given values, a prompt, or the defaults.

    Each question is a copier `Question`, so casting, choices, defaults, `when` and
    validators mean here exactly what they mean to copier; kgen adds one-line errors
    that name the flag, and asks line by line (in a terminal or from a pipe).
    """

    def __init__(
        self,
        questions: list[Question],
        root: Path | None = None,
        settings: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.questions = questions
        self.root = root
        self.settings = settings or {}
        # What copier adds to the context it renders questions in.
        self.context = {"_copier_python": sys.executable, **(context or {})}

    @classmethod
    def of(
        cls, template: Path, context: Mapping[str, Any] | None = None
    ) -> Questionnaire:
        """The questionnaire of the copier template at `template`."""
        return cls(
            load_questions(template),
            root=template,
            settings=load_settings(template),
            context=context,
        )

    @functools.cached_property
    def env(self) -> Any:
        from kgen.copier_api import environment

        return environment(self.root, self.settings.get("envops") or {})

    def resolve(
        self,
        given: Mapping[str, Any],
        ask: Ask | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Complete `given` into the full answers, in question order.

        `defaults` replaces the template's default of some questions (e.g. the project
        name from the destination directory), as copier's `user_defaults` do.

        Questions whose `when` is false are left out. Missing answers come from `ask`
        (called with the question and its default, again until valid) or, without it,
        from the defaults. Raises KgenError on an invalid or unknown answer.
        """
        from kgen.copier_api import MISSING, answers_map

        names = {question.name for question in self.questions}
        unknown = sorted(set(given) - names)
        if unknown:
            pattern = given.get("pattern", (defaults or {}).get("pattern"))
            raise KgenError(self._unknown(unknown[0], pattern))
        answers: dict[str, Any] = {}
        store = answers_map(defaults or {})
        # What templates see: the answers plus the hidden values of questions whose
        # `when` is false (copier computes those from their defaults, unrecorded).
        context: dict[str, Any] = dict(self.context)
        for question in self.questions:
            asked = self._copier_question(question, store, context)
            if not _guard(question, asked.applies):
                if question.name in given:
                    raise KgenError(
                        f"{question.flag} does not apply to this project "
                        f"(it needs {_condition(question.when)}); drop it"
                    )
                hidden = _guard(question, asked.default)
                if hidden is not MISSING:
                    context[question.name] = hidden
                continue
            if question.name in given:
                value = self.accept(question, asked, given[question.name])
            elif ask is not None and _guard(question, asked.asks):
                value = self._ask_until_valid(question, asked, ask)
            else:
                value = self._default(question, asked)
            answers[question.name] = context[question.name] = value
        return answers

    def _unknown(self, name: str, pattern: Any = None) -> str:
        """Why `name` is refused: the closest question, and those one may answer
        (of `pattern`, when known; never the template's computed ones, whose `when`
        is false)."""
        import difflib

        asked = sorted(
            question.name
            for question in self.questions
            if not _never_asked(question)
            and (not isinstance(pattern, str) or self.applies(question, pattern))
        )
        close = difflib.get_close_matches(name, asked, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        who = f"the {pattern} pattern" if isinstance(pattern, str) else "the template"
        return f"unknown question {name!r}; {hint}{who} asks: {', '.join(asked)}"

    def _copier_question(
        self, question: Question, store: Any, context: Mapping[str, Any]
    ) -> AskedQuestion:
        from kgen.copier_api import AskedQuestion

        try:
            return AskedQuestion(question.name, question.spec, store, context, self.env)
        except (TypeError, ValueError) as error:
            problem = " ".join(str(error).split())
            raise KgenError(
                f"the template's question {question.name!r} is malformed ({problem}); "
                "fix copier.yml"
            ) from None

    def _default(self, question: Question, asked: AskedQuestion) -> Any:
        from kgen.copier_api import MISSING

        try:
            value = asked.default()
        except ValueError:  # copier validates a default that applies
            raise KgenError(self._default_problem(question, asked)) from None
        if value is MISSING:
            raise KgenError(f"{question.flag} is required; pass a value")
        return value

    def _ask_until_valid(
        self, question: Question, asked: AskedQuestion, ask: Ask
    ) -> Any:
        from kgen.copier_api import MISSING

        problem = None
        try:
            default = _guard(question, asked.default)
        except KgenError:  # an invalid default (e.g. DEST's name): ask without one
            default = MISSING
            problem = self._default_problem(question, asked)
        while True:
            reply = ask(question, _as_text(question, default), problem)
            if reply == "" and default is not MISSING and default is not None:
                reply = default
            try:
                return self.accept(question, asked, reply)
            except KgenError as error:
                problem = str(error)

    def _default_problem(self, question: Question, asked: AskedQuestion) -> str:
        """Why the default of `question` (the template's, or one kgen gave) fails."""
        value = asked.user_defaults.get(question.name, question.default)
        try:
            value = self.render(value, asked.context)
            self.accept(question, asked, value)
        except KgenError as error:
            return str(error)
        return f"{question.flag} has no valid default; pass a value"

    def accept(self, question: Question, asked: AskedQuestion, value: Any) -> Any:
        """`value` parsed and validated by copier's question `asked`, or KgenError."""
        from kgen.copier_api import NotAChoice

        if question.type == "bool" and isinstance(value, str):
            word = value.strip().lower()
            if word not in TRUE_WORDS | FALSE_WORDS:
                raise KgenError(
                    f"{question.flag} {value!r} is not a valid bool: "
                    "answer yes or no (y/n, true/false, on/off, 1/0)"
                )
        if question.multiselect and isinstance(value, (tuple, set)):
            value = list(value)
        if question.multiselect and isinstance(value, str) and "[" not in value:
            value = [item.strip() for item in value.split(",") if item.strip()]
        try:
            parsed = asked.parse(value)
        except NotAChoice as error:
            allowed = ", ".join(map(str, error.allowed))
            raise KgenError(
                f"{question.flag} {value!r} is not one of: {allowed}"
            ) from None
        except Exception as error:  # copier raises what the cast raises
            raise KgenError(_parse_problem(question, value, error)) from None
        try:
            asked.validate(parsed)
        except ValueError as error:
            message = " ".join(str(error).split())
            raise KgenError(f"{question.flag} {parsed!r} {message}") from None
        return parsed

    def render(self, value: Any, answers: Mapping[str, Any]) -> Any:
        """Render a templated string against the answers; other values pass through."""
        if not isinstance(value, str) or "{" not in value:
            return value
        return self.env.from_string(value).render({**self.context, **answers})

    def applies(self, question: Question, pattern: str) -> bool:
        """Whether `question` can apply to a project of `pattern`.

        Its `when` is rendered with the pattern known and every other answer a
        wildcard that satisfies any test, so `pattern == 'parallel' and branches > 1`
        applies to parallel whatever the branches, and not to siamese.
        """
        if not isinstance(question.when, str):
            return bool(question.when)
        try:
            rendered = self.wildcards.from_string(question.when).render(pattern=pattern)
        except Exception:  # a filter a wildcard cannot pass: it may apply
            return True
        return rendered.strip().lower() not in FALSE_WORDS | {"", "none", "null", "~"}

    @functools.cached_property
    def wildcards(self) -> Any:
        """The environment in which every answer but the pattern is a wildcard."""
        from kgen.copier_api import environment

        envops = self.settings.get("envops") or {}
        return environment(self.root, envops, undefined=_wildcard())


def _never_asked(question: Question) -> bool:
    """Whether copier.yml marks `question` as computed: its `when` is plain false."""
    when = question.when
    if isinstance(when, str):
        return when.strip().lower() in FALSE_WORDS | {""}
    return not when


def _guard(question: Question, call: Callable[[], Any]) -> Any:
    """`call()`, with copier's rendering errors as a KgenError naming the question."""
    try:
        return call()
    except KgenError:
        raise
    except Exception as error:
        problem = " ".join(str(error).split()) or type(error).__name__
        raise KgenError(
            f"the template cannot work out {question.name!r} ({problem}); "
            "fix copier.yml"
        ) from None


def _parse_problem(question: Question, value: Any, error: Exception) -> str:
    problem = f"{question.flag} {value!r} is not a valid {question.type}"
    if question.type in {"json", "yaml"}:
        problem += f" ({' '.join(str(error).split())})"
    return problem


def _as_text(question: Question, default: Any) -> str:
    """A default as the prompt shows it (and as a reply that keeps it)."""
    import json

    from kgen.copier_api import MISSING

    if default is MISSING or default is None:
        return ""
    if question.type == "bool":
        return "y" if default else "n"
    if question.multiselect:
        return ", ".join(map(str, default))
    if question.type in {"json", "yaml"} and not isinstance(default, str):
        return json.dumps(default)
    return str(default)


def _condition(when: Any) -> str:
    text = str(when).strip()
    if text.startswith("{{") and text.endswith("}}"):
        text = text[2:-2].strip()
    return text


@functools.cache
def _wildcard() -> type:
    """An undefined value that passes every test: what any later answer may be."""
    from jinja2 import Undefined

    def always(self: Any, *_: Any) -> bool:
        return True

    tests = ("__bool__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__")
    namespace: dict[str, Any] = {name: always for name in tests}
    namespace["__contains__"] = always
    namespace["__hash__"] = Undefined.__hash__
    namespace["__str__"] = lambda self: "true"  # `a and b` renders as b
    return type("Wildcard", (Undefined,), namespace)
