"""Shared fixtures: the built-in template, and projects rendered once per session."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from kgen.cli import application
from kgen.project import pattern_catalog
from kgen.template import builtin_template

ROOT = Path(__file__).resolve().parent.parent
PATTERNS = list(pattern_catalog(builtin_template()))


def cli(args: list[str], **kwargs: Any) -> Result:
    """Run `kgen ARGS` in-process, as `kgen.cli.run` would (typer's test runner)."""
    with application(args) as app:
        return CliRunner().invoke(app, args, **kwargs)


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """`KGEN_SHARD=I/N` keeps shard I of N of the selected tests (0 <= I < N).

    A test's shard comes from a hash of its id, so every pytest-xdist worker, and
    every run, puts it in the same one; the N shards together are the whole
    selection. CI runs one shard of the long tiers per commit (see .ci/run).
    """
    spec = os.environ.get("KGEN_SHARD")
    if not spec:
        return
    index, count = (int(part) for part in spec.split("/"))
    if not 0 <= index < count:
        raise pytest.UsageError(f"KGEN_SHARD={spec}: I/N with 0 <= I < N")

    def shard(item: pytest.Item) -> int:
        return int(hashlib.sha256(item.nodeid.encode()).hexdigest(), 16) % count

    kept = [item for item in items if shard(item) == index]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


@pytest.fixture(scope="session", autouse=True)
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME of the tests' own: kgen keeps its template store in ~/.kgen."""
    path = tmp_path_factory.mktemp("home")
    os.environ["HOME"] = str(path)
    return path


@pytest.fixture(scope="session")
def template() -> Path:
    return builtin_template()


def kgen(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `kgen` command in a subprocess (as `python -m kgen`)."""
    return subprocess.run(
        [sys.executable, "-m", "kgen", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "120", **(env or {})},
    )


def run_in(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """Run `python COMMAND...` inside a generated project, TensorFlow's logs down."""
    return subprocess.run(
        [sys.executable, *command],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` as the tests' identity; a failure raises."""
    result = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_IDENTITY},
    )
    return result.stdout


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """`os.environ` with `values` set, restored afterwards (for in-process copier)."""
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


RenderProject = Callable[..., Path]


def private_copy(project: Path, where: Path) -> Path:
    """A copy of a session-rendered project, for a test that runs or writes in it.

    The session's projects are shared by tests that check their exact files; running
    code inside one would leave caches and training outputs behind for them.
    """
    copy = where / project.name
    shutil.copytree(project, copy)
    return copy


@pytest.fixture(scope="session")
def render_project(tmp_path_factory: pytest.TempPathFactory) -> RenderProject:
    """Render (without smoke-training) a project once per set of flags per session."""
    cache: dict[tuple[str, ...], Path] = {}

    def render(*flags: str) -> Path:
        """`kgen new siamese FLAGS`; a first flag naming a pattern picks that one."""
        pattern, flags_ = "siamese", flags
        if flags and flags[0] in PATTERNS:
            pattern, flags_ = flags[0], flags[1:]
        if flags not in cache:
            dest = tmp_path_factory.mktemp("project") / "demo"
            result = cli(["new", pattern, str(dest), "--yes", "--no-smoke", *flags_])
            assert result.exit_code == 0, result.output
            cache[flags] = dest
        return cache[flags]

    return render
