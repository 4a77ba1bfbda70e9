"""Atomic generation: a failure or Ctrl-C at any step leaves no partial project.

Each test breaks one step of `kgen new` (rendering, formatting, validation, the
final move) after it has already written files into the staging directory, and
checks that neither the destination nor the staging directory is left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kgen.cli import run
from kgen.store import builtin_template, ensure_store


class Injected(Exception):
    """The failure a test injects."""


def failing(step: Callable[..., Any], error: BaseException) -> Callable[..., Any]:
    """`step`, which runs and then fails with `error`, as if it broke halfway."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        step(*args, **kwargs)
        raise error

    return broken


def new(
    where: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[Any, str]:
    with pytest.raises(BaseException) as raised:
        run(["new", "parallel", str(where / "demo"), "--yes", "--no-smoke", *extra])
    captured = capsys.readouterr()
    return raised.value, captured.out + captured.err


def unformatted_copy(where: Path) -> Path:
    """The built-in template without its `_kgen_formatted` promise: kgen runs black."""
    import shutil

    shutil.copytree(builtin_template(), where)
    config = where / "copier.yml"
    config.write_text(config.read_text().replace("_kgen_formatted: true", ""))
    return where


@pytest.mark.parametrize("error", [Injected("boom"), KeyboardInterrupt()])
@pytest.mark.parametrize("step", ["render", "validate", "format", "move"])
def test_a_failing_step_leaves_nothing(
    step: str,
    error: BaseException,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import copier

    import kgen.generate

    targets = {
        "render": (copier, "run_copy"),
        "validate": (kgen.generate, "validate_tree"),
        "format": (kgen.generate, "format_tree"),
        "move": (kgen.generate.os, "replace"),
    }
    module, name = targets[step]
    extra: list[str] = []
    if step == "format":  # black runs on templates not declaring `_kgen_formatted`
        extra = ["--template", str(unformatted_copy(tmp_path / "template"))]
    ensure_store()  # before os.replace breaks: it installs the store with it
    if step == "move":  # the move is one rename: it fails before, or not at all
        monkeypatch.setattr(module, name, failing(lambda *_: None, error))
    else:
        monkeypatch.setattr(module, name, failing(getattr(module, name), error))
    raised, _ = new(tmp_path, capsys, *extra)
    if isinstance(error, KeyboardInterrupt):
        # typer turns Ctrl-C into exit status 130.
        assert isinstance(raised, SystemExit) and raised.code == 130
    else:
        assert isinstance(raised, Injected)
    left = [path.name for path in tmp_path.iterdir() if path.name != "template"]
    assert left == []  # no project, no staging directory


def test_an_invalid_render_is_reported_and_leaves_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import kgen.generate

    validate = kgen.generate.validate_tree

    def corrupt_then_validate(project: Path) -> None:
        (project / "demo" / "model.py").write_text("def broken(:\n")
        validate(project)

    monkeypatch.setattr(kgen.generate, "validate_tree", corrupt_then_validate)
    raised, output = new(tmp_path, capsys)
    assert isinstance(raised, SystemExit) and raised.code == 2
    assert "the template produced an invalid demo/model.py" in output
    assert list(tmp_path.iterdir()) == []
