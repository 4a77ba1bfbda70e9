"""Every use kgen makes of copier's internals, in this one module.

copier exports only its run_* functions (and `copier.errors`); its question machinery
(`Question`, `AnswersMap`), its `copier.yml` loader and its Jinja sandbox live in
modules whose names start with an underscore. kgen uses them so that questions mean
exactly what they mean to copier: the rest of kgen goes through the small functions
and the class below, never through a copier object. tests/test_copier_api.py checks
the contract (each internal used here) and that the installed copier is in the
series of CHECKED_COPIER_VERSIONS.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from copier._jinja_ext import SandboxedEnvironment
from copier._template import load_template_config
from copier._types import MISSING
from copier._user_data import AnswersMap
from copier._user_data import Question as CopierQuestion

# The copier releases this module was checked against (tests/test_copier_api.py
# fails on a release of another minor series). For a new copier: re-check this
# module against it, then add the version; pyproject.toml's copier pin runs from the
# oldest to the end of the newest one's minor series. (Older ones fail
# kgen's tests: 9.18.2 has no `Question.get_ask`, 9.19.0's git checkout of a
# template version fails.)
CHECKED_COPIER_VERSIONS = ("9.19.1",)
# The Jinja extensions copier renders every template with (besides the template's
# own `_jinja_extensions`).
EXTENSIONS = ["jinja2_ansible_filters.AnsibleCoreFiltersExtension"]
# How copier words a validator's refusal before the validator's own message.
VALIDATION_PREFIX = re.compile(r"^Validation error for question '[^']*': ")

__all__ = [
    "CHECKED_COPIER_VERSIONS",
    "MISSING",
    "AskedQuestion",
    "NotAChoice",
    "answers_map",
    "environment",
    "load_template_config",
]


def answers_map(user_defaults: Mapping[str, Any]) -> Any:
    """copier's store of answers, holding defaults given from outside the template
    (e.g. the project name from the destination), as copier's `user_defaults`."""
    return AnswersMap(user_defaults=dict(user_defaults))


class NotAChoice(ValueError):
    """An answer that is none of its question's choices."""

    def __init__(self, allowed: list[Any]) -> None:
        super().__init__(f"not one of {allowed}")
        self.allowed = allowed


class AskedQuestion:
    """One question as copier asks it, in the context of the answers so far.

    Raises TypeError or ValueError when copier refuses the question's spec; the
    methods raise what copier's rendering raises.
    """

    def __init__(
        self,
        name: str,
        spec: Mapping[str, Any],
        answers: Any,
        context: Mapping[str, Any],
        env: Any,
    ) -> None:
        self.name = name
        self.context = context
        self.user_defaults: Mapping[str, Any] = answers.user_defaults
        self._question = CopierQuestion(
            var_name=name, answers=answers, context=context, jinja_env=env, **spec
        )

    def applies(self) -> bool:
        """Its `when`, rendered."""
        return bool(self._question.get_when())

    def asks(self) -> bool:
        """Its `ask` setting, rendered (false: take the default without asking)."""
        return bool(self._question.get_ask())

    def default(self) -> Any:
        """The default, rendered, parsed and (when the question applies) validated;
        MISSING when it has none. Raises ValueError for an invalid default."""
        return self._question.get_default()

    def parse(self, value: Any) -> Any:
        """`value` cast to the question's type, a choice's value where it has choices
        (a list of them for a multiselect); NotAChoice when it is none of them."""
        try:
            return self._question.parse_answer(value)
        except ValueError as error:
            if not str(error).startswith("Invalid choice"):
                raise
            raise NotAChoice(self.choices()) from None

    def validate(self, value: Any) -> None:
        """ValueError with the validator's message when it refuses `value`."""
        try:
            self._question.validate_answer(value)
        except ValueError as error:
            raise ValueError(VALIDATION_PREFIX.sub("", str(error))) from None

    def choices(self) -> list[Any]:
        """The values of its choices, rendered and cast to the question's type."""
        question = self._question
        return [question.cast_answer(c.value) for c in question._formatted_choices]


def environment(
    root: Path | None, envops: Mapping[str, Any], undefined: Any = None
) -> Any:
    """The Jinja environment copier renders questions in, compiling each string once.

    copier's sandbox, extensions and `_envops`, with the template's directory as the
    loader root so kgen's settings can import the template's files. copier compiles
    every default, `when` and validator afresh for each question (through the
    environment's `from_string`); here each string is a template of the
    environment's own loader, so Jinja's bytecode cache keeps its compiled code on
    disk between runs (compiling is most of kgen's own cost).
    """
    from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader

    strings: dict[str, str] = {}

    class CachingEnvironment(SandboxedEnvironment):
        def from_string(self, source: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(source, str) or args or kwargs:
                return super().from_string(source, *args, **kwargs)
            name = "<kgen string " + hashlib.sha1(source.encode()).hexdigest() + ">"
            strings[name] = source
            return self.get_template(name)

    options = dict(envops)
    options.pop("undefined", None)
    if undefined is not None:
        options["undefined"] = undefined
    loaders: list[Any] = [DictLoader(strings)]
    if root is not None:
        loaders.append(FileSystemLoader(str(root)))
    return CachingEnvironment(
        loader=ChoiceLoader(loaders),
        extensions=EXTENSIONS,
        bytecode_cache=_bytecode_cache(repr((sorted(options.items()), EXTENSIONS))),
        cache_size=-1,
        **options,
    )


def _bytecode_cache(settings: str) -> Any:
    """Jinja's on-disk cache of compiled templates, one directory per environment
    settings (they change the code); None where it cannot be written."""
    from jinja2 import FileSystemBytecodeCache

    base = Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser()
    directory = base / "kgen" / "jinja" / hashlib.sha1(settings.encode()).hexdigest()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(directory))
