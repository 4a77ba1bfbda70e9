"""kgen/copier_api.py: the copier internals kgen uses, checked against copier itself.

A copier release that changes one of them fails here, not in a user's `kgen new`.
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from kgen import copier_api
from kgen.copier_api import (
    CHECKED_COPIER_VERSIONS,
    MISSING,
    AskedQuestion,
    NotAChoice,
    answers_map,
    environment,
    load_template_config,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_the_installed_copier_is_one_kgen_was_checked_against() -> None:
    """A patch release of a checked copier passes (this file's contract tests run on
    it); another minor release fails here until it is checked."""
    installed = Version(importlib.metadata.version("copier"))
    series = {Version(version).release[:2] for version in CHECKED_COPIER_VERSIONS}
    assert installed.release[:2] in series, (
        f"copier {installed} is not in the series of CHECKED_COPIER_VERSIONS "
        f"{CHECKED_COPIER_VERSIONS}: re-check kgen/copier_api.py against the new "
        "copier (this file's tests), then add the version there and move "
        "pyproject.toml's pin"
    )


def test_pyproject_pins_copier_around_the_checked_versions() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [
        dependency.removeprefix("copier")
        for dependency in project["project"]["dependencies"]
        if dependency.startswith("copier") and dependency[6:7] in "<>=!~ "
    ]
    assert len(pins) == 1, pins
    pin = SpecifierSet(pins[0])
    for version in CHECKED_COPIER_VERSIONS:
        assert version in pin, f"pyproject's copier{pin} excludes checked {version}"
    # No release below the oldest checked one, and no minor release after the
    # newest one's: users get only copier releases of a checked series.
    oldest = min(map(Version, CHECKED_COPIER_VERSIONS))
    newest = max(map(Version, CHECKED_COPIER_VERSIONS))
    assert f">={oldest}" in map(str, pin), f"copier{pin}: start it at {oldest}"
    assert not pin.contains(f"{newest.major}.{newest.minor + 1}.0")


def asked(
    spec: dict[str, Any],
    context: dict[str, Any] | None = None,
    user_defaults: dict[str, Any] | None = None,
    env: Any = None,
    name: str = "size",
) -> AskedQuestion:
    env = env if env is not None else environment(None, {})
    return AskedQuestion(
        name, spec, answers_map(user_defaults or {}), context or {}, env
    )


def test_a_default_is_rendered_in_the_context_and_cast() -> None:
    question = asked({"type": "int", "default": "{{ base * 2 }}"}, {"base": 4})
    assert question.default() == 8
    assert asked({"type": "str"}).default() is MISSING


def test_a_default_given_from_outside_replaces_the_templates() -> None:
    question = asked({"type": "str", "default": "x"}, user_defaults={"size": "big"})
    assert question.default() == "big"
    assert question.user_defaults == {"size": "big"}
    assert question.context == {}


def test_when_and_ask_are_rendered() -> None:
    spec = {"type": "int", "when": "{{ kind == 'wide' }}", "default": 1}
    assert asked(spec, {"kind": "wide"}).applies() is True
    assert asked(spec, {"kind": "deep"}).applies() is False
    assert asked({**spec, "when": False}).applies() is False
    assert asked({"type": "int", "default": 1}).asks() is True
    assert asked({"type": "int", "default": 1, "when": False}).asks() is True


def test_answers_are_parsed_by_type_and_choice() -> None:
    assert asked({"type": "int"}).parse("3") == 3
    assert asked({"type": "bool"}).parse("yes") is True
    assert asked({"type": "yaml"}).parse("[1, 2]") == [1, 2]
    assert asked({"type": "json"}).parse('{"a": 1}') == {"a": 1}
    with pytest.raises(ValueError):
        asked({"type": "int"}).parse("three")
    choices = {"type": "int", "choices": {"one": 1, "{{ label }}": "{{ 1 + 1 }}"}}
    question = asked(choices, {"label": "two"})
    assert question.choices() == [1, 2]
    assert question.parse("2") == 2
    with pytest.raises(NotAChoice) as refused:
        question.parse("5")
    assert refused.value.allowed == [1, 2]
    tags = asked({"type": "str", "multiselect": True, "choices": ["a", "b", "c"]})
    assert tags.parse(["c", "a"]) == ["a", "c"]  # in the choices' order
    assert tags.parse("[b]") == ["b"]


def test_a_validators_message_comes_without_copiers_prefix() -> None:
    spec = {"type": "int", "validator": "{% if size < 1 %}must be positive{% endif %}"}
    question = asked(spec)
    question.validate(2)
    with pytest.raises(ValueError, match="^must be positive$"):
        question.validate(0)
    with pytest.raises(ValueError, match="must be positive"):
        asked({**spec, "default": 0}).default()  # an applying default is validated


def test_a_malformed_question_is_refused() -> None:
    with pytest.raises((TypeError, ValueError)):
        asked({"type": ["int"]})  # not a type name
    with pytest.raises((TypeError, ValueError)):
        asked({"type": "str", "secret": True})  # a secret needs a default


def test_copier_renders_questions_through_the_caching_environment(
    tmp_path: Path,
) -> None:
    env = environment(tmp_path, {"keep_trailing_newline": True})
    compiled: list[str] = []
    get_template = env.get_template

    def recording(name: str, *args: Any, **kwargs: Any) -> Any:
        compiled.append(name)
        return get_template(name, *args, **kwargs)

    env.get_template = recording
    (tmp_path / "sizes.jinja").write_text(
        "{% macro twice(n) %}{{ n * 2 }}{% endmacro %}"
    )
    default = '{% import "sizes.jinja" as sizes %}{{ sizes.twice(3) }}'
    assert asked({"type": "int", "default": default}, env=env).default() == 6
    assert any(name.startswith("<kgen string") for name in compiled), compiled
    # copier's own filters (jinja2-ansible-filters) and the sandbox.
    regex = '{{ "a-b" | regex_replace("-", "_") }}'
    assert asked({"type": "str", "default": regex}, env=env).default() == "a_b"
    assert env.is_safe_attribute(object(), "__class__", object) is False


def test_envops_and_an_undefined_of_kgens_own_apply() -> None:
    from jinja2 import StrictUndefined, UndefinedError

    strict = environment(None, {"undefined": "ignored"}, undefined=StrictUndefined)
    with pytest.raises(UndefinedError):
        strict.from_string("{{ missing }}").render()
    brackets = environment(
        None, {"variable_start_string": "[[", "variable_end_string": "]]"}
    )
    assert brackets.from_string("[[ 1 + 1 ]]").render() == "2"


def test_copiers_loader_reads_includes_and_documents(tmp_path: Path) -> None:
    (tmp_path / "copier.yml").write_text(textwrap.dedent("""
            _envops: {trim_blocks: true}
            size: {type: int, default: 1}
            ---
            !include extra/*.yml
            """))
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "more.yml").write_text("name: {type: str}\n")
    config = load_template_config(tmp_path / "copier.yml")
    assert config["size"] == {"type": "int", "default": 1}
    assert config["name"] == {"type": "str"}
    assert config["_envops"] == {"trim_blocks": True}


# What kgen may use of copier outside kgen/copier_api.py: the public API.
PUBLIC_MODULES = {"copier", "copier.errors"}
PUBLIC_NAMES = {"run_copy", "run_update", "run_recopy"}


def copier_members() -> set[str]:
    """The attributes copier's question machinery defines itself (not inherited
    from Jinja, pydantic or Python): using one is using a copier internal."""
    classes = [
        copier_api.CopierQuestion,
        copier_api.AnswersMap,
        copier_api.SandboxedEnvironment,
    ]
    return {name for cls in classes for name in vars(cls) if not name.startswith("__")}


def kgen_names(trees: list[ast.Module]) -> set[str]:
    """Every name kgen defines: functions, classes, attributes, parameters."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, (ast.Name, ast.Attribute)) and isinstance(
                node.ctx, ast.Store
            ):
                names.add(node.id if isinstance(node, ast.Name) else node.attr)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return names


def copier_internals_used(package: Path) -> list[str]:
    """Uses of copier internals in `package`'s modules other than copier_api.py:
    imports of copier's private modules or of copier_api's raw copier classes, and
    attributes that only copier's objects have (private ones, `get_default`, ...)."""
    paths = sorted(package.glob("*.py"))
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in paths}
    ours = kgen_names(list(trees.values()))
    members = copier_members()
    allowed_from_api = set(copier_api.__all__)
    found: list[str] = []
    for path, tree in trees.items():
        if path.name == "copier_api.py":
            continue
        for node in ast.walk(tree):
            where = f"{path.name}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Import):
                found += [
                    f"{where}: import {alias.name}"
                    for alias in node.names
                    if alias.name.startswith("copier.")
                    and alias.name not in PUBLIC_MODULES
                ]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = {alias.name for alias in node.names}
                if node.module == "copier" and names - PUBLIC_NAMES - {"errors"}:
                    found.append(f"{where}: from copier import {sorted(names)}")
                elif node.module.startswith("copier.") and (
                    node.module not in PUBLIC_MODULES
                ):
                    found.append(f"{where}: from {node.module} import ...")
                elif node.module == "kgen.copier_api" and names - allowed_from_api:
                    found.append(f"{where}: {sorted(names - allowed_from_api)}")
            elif isinstance(node, ast.Attribute) and node.attr not in ours:
                private = node.attr.startswith("_") and not node.attr.startswith("__")
                if private or node.attr in members:
                    found.append(f"{where}: .{node.attr}")
            elif isinstance(node, ast.Name) and node.id in {
                "SandboxedEnvironment",
                "CopierQuestion",
                "AnswersMap",
            }:
                found.append(f"{where}: {node.id}")
    return found


def test_copier_internals_are_used_in_copier_api_only() -> None:
    found = copier_internals_used(ROOT / "kgen")
    assert not found, (
        "copier internals used outside kgen/copier_api.py (move them behind a "
        "function there): " + "; ".join(found)
    )


def test_the_check_finds_a_private_copier_attribute(tmp_path: Path) -> None:
    (tmp_path / "copier_api.py").write_text("x = question._formatted_choices\n")
    (tmp_path / "questions.py").write_text(textwrap.dedent("""
            from copier._user_data import Question
            from kgen.copier_api import SandboxedEnvironment

            def check(asked):
                asked.get_default()
                return asked._formatted_choices, asked._check
            def _check(): ...
            """))
    found = copier_internals_used(tmp_path)
    assert [entry.split(": ", 1)[1] for entry in found] == [
        "from copier._user_data import ...",
        "['SandboxedEnvironment']",
        ".get_default",
        "._formatted_choices",
    ]
