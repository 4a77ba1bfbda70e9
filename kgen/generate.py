"""Render a project with copier, format it, and move it into place in one step."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kgen.errors import KgenError
from kgen.formatting import format_tree
from kgen.store import builtin_template

ANSWERS_FILE = ".copier-answers.yml"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_destination(dest: Path, force: bool = False) -> None:
    """Refuse a destination kgen must not write to.

    A non-empty directory is refused unless `force`: kgen then overwrites only the
    files the template produces and never deletes anything.
    """
    if dest.exists() and not dest.is_dir():
        raise KgenError(f"{dest} exists and is a file; choose another destination")
    resolved = dest.resolve()
    install = Path(__file__).resolve().parent
    for own in (install, builtin_template().parent):
        if resolved == own or own in resolved.parents:
            raise KgenError(
                f"{dest} is inside kgen's own installation ({own}); choose a "
                "directory outside it"
            )
    if not force and dest.is_dir() and any(dest.iterdir()):
        raise KgenError(
            f"{dest} exists and is not empty; choose a new directory, or pass --force "
            "to write the template's files into it (nothing else is touched)"
        )


def render(
    template: str | Path,
    dest: Path,
    answers: Mapping[str, Any],
    *,
    vcs_ref: str | None = None,
    trust: bool = False,
    record: Mapping[str, str] | None = None,
    force: bool = False,
    label: str | None = None,
    formatted: bool = False,
) -> Path:
    """Render `template` with `answers` into the new directory `dest`, formatted.

    Everything happens in a staging directory beside `dest`, which is renamed into
    place only once rendering and formatting succeeded: a failure (or Ctrl-C) leaves
    no half-written project behind. `record` replaces where the answers file says
    the template came from (`_src_path`, `_commit`); `label` is how messages name
    the template (the user's path, not kgen's store copy of it). `formatted` says the
    template writes black-clean Python already, so black is not run over it.
    """
    import copier

    dest = dest.resolve()  # `.` and `..` by their real names
    check_destination(dest, force)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.kgen-", dir=dest.parent))
    try:
        with copier_errors(label or template):
            copier.run_copy(
                str(template),
                staging,
                data=dict(answers),
                vcs_ref=vcs_ref,
                defaults=True,
                overwrite=True,
                quiet=True,
                unsafe=trust,
            )
        if record:
            record_source(staging / ANSWERS_FILE, record)
        validate_tree(staging)
        if not formatted:
            format_tree(staging)
        staging.chmod(0o777 & ~_umask())  # mkdtemp made it private
        if not dest.is_dir():
            os.replace(staging, dest)
        elif any(dest.iterdir()):  # --force
            merge_into(staging, dest)
        else:
            fill(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest


def fill(staging: Path, dest: Path) -> None:
    """Move the staged project into the existing empty directory `dest`.

    `dest` itself stays (it may be the user's working directory, which must not be
    replaced under their shell); its entries are moved in one by one, and taken out
    again if a move fails, so `dest` ends either complete or empty.
    """
    moved: list[Path] = []
    try:
        for entry in sorted(staging.iterdir()):
            target = dest / entry.name
            os.replace(entry, target)
            moved.append(target)
    except BaseException:
        for target in moved:
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        raise
    staging.rmdir()


def validate_tree(project: Path) -> None:
    """Check that what was rendered loads: Python parses, TOML and YAML load."""
    import ast

    import yaml

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: black's own dependency
        import tomli as tomllib

    for path in sorted(project.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(project)
        try:
            if path.suffix == ".py":
                ast.parse(path.read_text(encoding="utf-8"), filename=str(name))
            elif path.suffix == ".toml":
                tomllib.loads(path.read_text(encoding="utf-8"))
            elif path.suffix in {".yml", ".yaml"}:
                yaml.safe_load(path.read_text(encoding="utf-8"))
        except (SyntaxError, ValueError, yaml.YAMLError) as error:
            problem = " ".join(str(error).split())
            raise KgenError(
                f"the template produced an invalid {name} ({problem}); fix the template"
            ) from None


def merge_into(staging: Path, dest: Path) -> None:
    """Move the staged files into the existing `dest`, replacing same-named files.

    Files of `dest` that the template does not produce stay as they are. Clashes
    (a file where the template needs a directory, or the reverse) are found before
    anything moves.
    """
    files = [path for path in sorted(staging.rglob("*")) if path.is_file()]
    for path in files:
        target = dest / path.relative_to(staging)
        if target.is_dir() or any(
            parent.is_file() for parent in target.parents if dest in parent.parents
        ):
            raise KgenError(
                f"{target} clashes with a file the template writes; move it away "
                "and retry"
            )
    for path in files:
        target = dest / path.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    shutil.rmtree(staging)


@contextlib.contextmanager
def copier_errors(template: str | Path) -> Iterator[None]:
    """Turn copier's and Jinja's exceptions into one-line KgenErrors."""
    from copier.errors import CopierError, UnsafeTemplateError
    from jinja2 import TemplateError

    try:
        yield
    except UnsafeTemplateError as error:
        found = re.search(r"features?: ([^.\n]+)", str(error))
        features = found.group(1) if found else "tasks"
        raise KgenError(
            f"{template} runs code on your machine ({features}); "
            "pass --trust if you trust its author"
        ) from None
    except (CopierError, TemplateError, ValueError) as error:
        message = " ".join(f"{type(error).__name__}: {error}".split())
        raise KgenError(
            f"{template} failed to render ({message}); fix the template"
        ) from None


def record_source(answers_file: Path, record: Mapping[str, str]) -> None:
    """Point the answers file's `_src_path` / `_commit` at `record`'s values."""
    import yaml

    lines = answers_file.read_text(encoding="utf-8").splitlines(keepends=True)
    keys = tuple(f"{key}:" for key in record)
    kept = [line for line in lines if not line.startswith(keys)]
    header = 1 if kept and kept[0].startswith("#") else 0
    recorded = yaml.safe_dump(dict(record), sort_keys=False, allow_unicode=True)
    kept.insert(header, recorded)
    answers_file.write_text("".join(kept), encoding="utf-8")
