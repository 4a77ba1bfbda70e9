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
from kgen.store import ensure_store


class Injected(Exception):
    """The failure a test injects."""


def failing(step: Callable[..., Any], error: BaseException) -> Callable[..., Any]:
    """`step`, which runs and then fails with `error`, as if it broke halfway."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        step(*args, **kwargs)
        raise error

    return broken


def new(where: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Any, str]:
    with pytest.raises(BaseException) as raised:
        run(["new", "parallel", str(where / "demo"), "--yes", "--no-smoke"])
    captured = capsys.readouterr()
    return raised.value, captured.out + captured.err


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
    ensure_store()  # before os.replace breaks: it installs the store with it
    if step == "move":  # the move is one rename: it fails before, or not at all
        monkeypatch.setattr(module, name, failing(lambda *_: None, error))
    else:
        monkeypatch.setattr(module, name, failing(getattr(module, name), error))
    raised, _ = new(tmp_path, capsys)
    if isinstance(error, KeyboardInterrupt):
        # typer turns Ctrl-C into exit status 130.
        assert isinstance(raised, SystemExit) and raised.code == 130
    else:
        assert isinstance(raised, Injected)
    assert list(tmp_path.iterdir()) == []  # no project, no staging directory


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
